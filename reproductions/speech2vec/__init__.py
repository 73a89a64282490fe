"""A faithful, fast, resumable reproduction of Speech2Vec (skip-gram), as in the reality check.

Modules (torch is imported only by ``model``, ``embed`` and ``train``):

- ``spoken_corpus``: the embedded eSpeak NG corpus in LibriSpeech layout (``build_corpus``).
- ``espeak``: a ctypes binding to the eSpeak NG library shipped by ``espeakng-loader``.
- ``features``: aligned words -> MFCC frames -> one ``.npz`` frame store (keys documented there).
- ``data``: vocabulary, padding, skip-gram pairs, subsampling, length-bucketed batches.
- ``model``: BiLSTM encoder, attentive LSTM decoder, masked MSE.
- ``embed``: instance embeddings and word vectors.
- ``train``: the training loop, checkpoints, ``--resume``, DDP under torchrun.
- ``config``, ``history``, ``checks``: settings, the ``training-history`` result, per-epoch audits.
"""
