"""An acoustic word embedding trained as the field trains them: the positive control.

A BiLSTM over a spoken word's MFCC frames, trained with a cosine triplet loss (batch-hard or
semi-hard mining) or seed 001's asymmetric-proxy loss (written-word proxies from letters or
CMUdict phones), on the Speech2Vec reproduction's corpus, frame store and data preparation,
evaluated every epoch on speakers held out of training.

Modules (torch is imported only by ``model`` and ``train``): ``config``, ``data`` (speaker split,
word-grouped batches, written words), ``model`` (encoders and losses), ``evaluate`` (SW / SWDP
AP), ``history`` (the ``awe-training-history`` result), ``train`` (the loop, checkpoints,
``--resume``).
"""
