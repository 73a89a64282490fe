"""Speech signal pieces shared by checks and trainers: word alignments (``alignments``), the
MFCC definition and settings (``mfcc``), the one frame store with its builder and strict reader
(``frames``) and the batched DTW kernel (``dtw``). Imports only :mod:`audit.core`."""
