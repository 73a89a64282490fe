"""A small ctypes binding to eSpeak NG, as shipped by the ``espeakng-loader`` package.

eSpeak NG keeps global state (one voice, one set of parameters, one callback), so this module
keeps one synthesiser per process and every call sets the voice and parameters it needs.
Synthesis is synchronous: ``espeak_Synth`` returns when the callback has received every sample.

The samples of a call depend on the calls before it (the wave generator's state carries over) and
on eSpeak's own random generator, which ``espeak_Initialize`` seeds from the clock (``time(NULL)``):
the breath noise of voices such as ``en+f2`` and ``en-us+f3`` then differed between two runs a
second apart (every utterance of the demo's speaker 1003). Each engine seeds it with
:data:`RANDOM_SEED` after initialising, so the same calls in the same order from a fresh engine
give the same samples, in any run.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import threading

import numpy as np

from audit.core.errors import AuditError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

RANDOM_SEED = 0

_lock = threading.Lock()
_engine: "_Engine | None" = None


class _Engine:
    def __init__(self, private_copy: bool = False):
        try:
            import espeakng_loader
        except ImportError:
            raise AuditError("the synthetic corpus needs the espeakng-loader package "
                             "(pip install 'embedding-audit[speech]').") from None
        library = espeakng_loader.get_library_path()
        if private_copy:   # a new file name makes the loader map a new instance with fresh statics
            with tempfile.TemporaryDirectory() as folder:
                copy = shutil.copy(library, os.path.join(folder, "libespeak-ng-private.so"))
                self.lib = ctypes.CDLL(copy)
        else:
            self.lib = ctypes.CDLL(library)
        data_path = espeakng_loader.get_data_path().encode()
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.sample_rate <= 0:
            raise AuditError("eSpeak NG could not be initialised from the espeakng-loader data.")
        seed = getattr(self.lib, "espeak_ng_SetRandSeed", None)
        if seed is None:
            raise AuditError("this eSpeak NG library cannot seed its random generator, so the synthetic corpus "
                             "would differ from run to run; upgrade espeakng-loader (pip install -U espeakng-loader).")
        seed.argtypes = [ctypes.c_long]
        seed(RANDOM_SEED)   # not the clock (see the module's docstring)
        self.chunks: list[np.ndarray] = []
        self.callback = _CALLBACK(self._collect)   # kept alive on self: C holds the pointer
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.voice = None

    def _collect(self, wav, count, events):
        if count > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def synthesise(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        if voice != self.voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise AuditError(f"eSpeak NG has no voice {voice!r}.")
            self.voice = voice
        self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        self.chunks = []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise AuditError(f"eSpeak NG failed to synthesise {text!r} (status {status}).")
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self.chunks).astype(np.int16)


def synthesise(text: str, *, voice: str = "en-us", rate: int = 175, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text``: (int16 samples, sample rate), with the process-wide engine (whose state
    carries over from call to call: :class:`Synthesiser` is the reproducible one)."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = _Engine()
        return _engine.synthesise(text, voice, rate, pitch), _engine.sample_rate


class Synthesiser:
    """A private eSpeak NG instance: the same calls in the same order give the same samples."""

    def __init__(self):
        self._engine = _Engine(private_copy=True)
        self.sample_rate = self._engine.sample_rate

    def __call__(self, text: str, *, voice: str = "en-us", rate: int = 175, pitch: int = 50) -> np.ndarray:
        with _lock:
            return self._engine.synthesise(text, voice, rate, pitch)


def fresh_synthesiser() -> Synthesiser:
    return Synthesiser()
