"""Train the course's tiny model `tutorial-tiny` from scratch on CPU, deterministically.

    python -m course_tools.tiny.train                    # the shipped model (~2 minutes on 2 cores)
    python -m course_tools.tiny.train --quick --output-dir /tmp/tiny   # seconds; for tests

Steps: build the synthetic corpus (`corpus.py`), train the BPE tokenizer
(`tokenizer.py`), train a ~156K-parameter `LlamaForCausalLM`, and save model,
tokenizer, generation config and `training_facts.json` into `--output-dir`
(default: the shipped folder `companion/tiny/tutorial-tiny/`).

The same seed gives bit-identical `model.safetensors` and `tokenizer.json`:
the random generators are seeded, PyTorch runs in deterministic mode and the
number of CPU threads is fixed (a different thread count may change the
float rounding, so results are reproducible *for that thread count*).

The notebooks never need to run this: they load the shipped result
(see `companion.tiny.MODEL_DIR`); the README's table of models says where it comes from.
"""

import argparse
import json
import math
import platform
import random
import time
from pathlib import Path

import tokenizers
import torch
import transformers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

import companion  # noqa: F401, I001  (first: it sets OMP_WAIT_POLICY=PASSIVE before torch starts its threads)
from companion.cache import file_sha256
from companion.tiny import MODEL_DIR
from course_tools.tiny.corpus import make_corpus
from course_tools.tiny.tokenizer import train_tokenizer

SHIPPED_DIR = MODEL_DIR  # companion/tiny/tutorial-tiny/: the package ships what this writes
NUM_THREADS = 2  # fixed, so that training is bit-for-bit reproducible

# The configuration of the shipped model.
FULL_SETTINGS = {
    "num_documents": 200_000,
    "vocab_size": 768,
    "steps": 2000,
    "batch_size": 64,
}
# A reduced configuration that trains in a few seconds (used by the tests).
QUICK_SETTINGS = {
    "num_documents": 5_000,
    "vocab_size": 768,
    "steps": 30,
    "batch_size": 32,
}
MODEL_SETTINGS = {
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 256,
}
LEARNING_RATE = 3e-3
BETAS = (0.9, 0.98)
WEIGHT_DECAY = 0.1
WARMUP_STEPS = 100
FINAL_LR_FRACTION = 0.1  # cosine decay ends at 10% of the peak learning rate
GRAD_CLIP = 1.0


def make_batches(token_lists, batch_size, rng):
    """Group documents of similar length into batches (list of lists of indices), in random order.

    Length bucketing: shuffle, cut into pools of 16 batches, sort each pool by
    length, slice it into batches. Rows within a batch then need little padding.
    """
    indices = list(range(len(token_lists)))
    rng.shuffle(indices)
    pool_size = batch_size * 16
    batches = []
    for pool_start in range(0, len(indices), pool_size):
        pool = indices[pool_start:pool_start + pool_size]
        pool.sort(key=lambda index: len(token_lists[index]))
        for batch_start in range(0, len(pool) - batch_size + 1, batch_size):
            batches.append(pool[batch_start:batch_start + batch_size])
    rng.shuffle(batches)
    return batches


def collate(rows, pad_id):
    """Right-pad a list of token-id lists into tensors input_ids, attention_mask, labels (each [batch, length]).

    Padding positions get attention_mask 0 and label -100, so they are left out of the loss.
    """
    longest = max(len(row) for row in rows)
    input_ids, attention_mask, labels = [], [], []
    for row in rows:
        padding = longest - len(row)
        input_ids.append(row + [pad_id] * padding)
        attention_mask.append([1] * len(row) + [0] * padding)
        labels.append(row + [-100] * padding)
    return torch.tensor(input_ids), torch.tensor(attention_mask), torch.tensor(labels)


def learning_rate_at(step, total_steps):
    """Learning rate (float) for `step`: linear warm-up, then cosine decay to 10% of the peak."""
    warmup_steps = min(WARMUP_STEPS, max(1, total_steps // 10))
    if step < warmup_steps:
        return LEARNING_RATE * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return LEARNING_RATE * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * cosine)


def train(output_dir=SHIPPED_DIR, steps=None, seed=0, quick=False, log_every=100):
    """Build corpus + tokenizer, train the model, save everything into `output_dir`; return the facts (dict)."""
    settings = dict(QUICK_SETTINGS if quick else FULL_SETTINGS)
    if steps is not None:
        settings["steps"] = steps
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(NUM_THREADS)

    # 1. Corpus and tokenizer.
    documents = make_corpus(settings["num_documents"], seed=seed)
    tokenizer = train_tokenizer(documents, vocab_size=settings["vocab_size"])
    bos_id, eos_id = tokenizer.bos_token_id, tokenizer.eos_token_id
    # The tokenizer adds <s> in front; we add </s> at the end: "<s> text </s>".
    token_lists = [ids + [eos_id] for ids in tokenizer(documents)["input_ids"]]

    # 2. Model, initialised from the seeded random generator.
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        tie_word_embeddings=True,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=None,
        **MODEL_SETTINGS,
    )
    model = LlamaForCausalLM(config)
    parameter_count = sum(parameter.numel() for parameter in model.parameters())

    # 3. Optimiser: weight decay on the weight matrices only, not on the norm scales.
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": WEIGHT_DECAY}, {"params": vectors, "weight_decay": 0.0}],
        lr=LEARNING_RATE,
        betas=BETAS,
    )

    # 4. Training loop.
    batch_rng = random.Random(seed)
    batches = make_batches(token_lists, settings["batch_size"], batch_rng)
    recent_losses = []
    model.train()
    start_time = time.time()
    for step in range(settings["steps"]):
        if step > 0 and step % len(batches) == 0:
            batches = make_batches(token_lists, settings["batch_size"], batch_rng)  # next epoch
        batch = batches[step % len(batches)]
        input_ids, attention_mask, labels = collate([token_lists[i] for i in batch], pad_id=eos_id)

        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, settings["steps"])
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
        optimizer.zero_grad()

        recent_losses = (recent_losses + [loss.item()])[-50:]
        if log_every and (step + 1) % log_every == 0:
            average = sum(recent_losses) / len(recent_losses)
            print(f"step {step + 1:5d}  loss {average:.4f}  {time.time() - start_time:6.1f}s", flush=True)
    training_seconds = time.time() - start_time
    model.eval()

    # 5. Save. Only bos/eos go into the generation config: no pad token, greedy,
    #    and no max_length/max_new_tokens, so transformers' default of 20 new tokens applies.
    model.generation_config = GenerationConfig(bos_token_id=bos_id, eos_token_id=eos_id, do_sample=False)
    model.save_pretrained(output_dir)  # float32 model.safetensors + config.json + generation_config.json
    tokenizer.save_pretrained(output_dir)

    facts = {
        "seed": seed,
        "steps": settings["steps"],
        "batch_size": settings["batch_size"],
        "num_documents": settings["num_documents"],
        "quick": quick,
        "num_threads": NUM_THREADS,
        "model": {"architecture": "LlamaForCausalLM", "vocab_size": config.vocab_size,
                  "tie_word_embeddings": True, "dtype": "float32", **MODEL_SETTINGS},
        "parameter_count": parameter_count,
        "optimizer": {"name": "AdamW", "lr": LEARNING_RATE, "betas": list(BETAS),
                      "weight_decay": WEIGHT_DECAY, "warmup_steps": WARMUP_STEPS,
                      "schedule": "cosine to 10%", "grad_clip": GRAD_CLIP},
        "final_loss": round(sum(recent_losses) / len(recent_losses), 4),
        "final_loss_note": "mean training loss over the last 50 steps",
        "training_seconds": round(training_seconds, 1),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        "sha256": {"model.safetensors": file_sha256(output_dir / "model.safetensors"),
                   "tokenizer.json": file_sha256(output_dir / "tokenizer.json")},
    }
    (output_dir / "training_facts.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


def main():
    """Command-line entry point: parse arguments, train, print the facts."""
    parser = argparse.ArgumentParser(description="Train the course's tiny model tutorial-tiny on CPU.")
    parser.add_argument("--steps", type=int, default=None,
                        help=f"training steps (default {FULL_SETTINGS['steps']}, "
                             f"or {QUICK_SETTINGS['steps']} with --quick)")
    parser.add_argument("--output-dir", type=Path, default=SHIPPED_DIR,
                        help="where to save (default: the shipped companion/tiny/tutorial-tiny)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="reduced configuration (small corpus, few steps): seconds, for tests")
    arguments = parser.parse_args()
    facts = train(arguments.output_dir, steps=arguments.steps, seed=arguments.seed, quick=arguments.quick)
    print(json.dumps(facts, indent=2))


if __name__ == "__main__":
    main()
