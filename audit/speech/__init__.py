"""Speech signal pieces shared by checks and trainers: word alignments, MFCC frame stores and
the batched DTW kernel. Imports only :mod:`audit.core`."""
