"""Corpora in LibriSpeech layout: transcripts and counts, the transcript fetch, and the embedded
spoken corpus synthesised with eSpeak NG."""
