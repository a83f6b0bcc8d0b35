# %% [markdown] lang=en
# # 03 · Wrong generation mode
#
# Unless its generation config says otherwise, `generate()` decodes **greedily**: at every
# step it takes the single most likely token. That is right for some tasks and dull,
# repetitive text for others. This notebook compares greedy decoding with **sampling**.
#
# **What you will learn**
#
# - why greedy decoding repeats itself, and how `do_sample=True` changes that
# - to make sampling repeatable with `set_seed`
# - what `temperature`, `top_k` and `top_p` do to the next-token distribution (seen in a
#   table and a chart)
# - which mode suits which task, and what beam search (`num_beams`) is

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 30  # upper bound on new tokens per generate() call
SEED = 0  # set_seed(SEED) before sampling makes the samples repeatable
REAL_LLM = "smollm2-135m"  # a real small LLM for the side-by-side at the end (about 10 s on a CPU); None skips it

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import torch
from transformers import set_seed

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
model_inputs = tokenizer(["I am a cat."], return_tensors="pt").to(model.device)
print(type(model).__name__, "on", model.device)

# %% [markdown] lang=en
# ## Greedy decoding repeats itself
#
# Once a phrase is the most likely continuation, it stays the most likely continuation, so
# greedy decoding easily ends up in a loop:

# %%
greedy_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
tokenizer.batch_decode(greedy_ids, skip_special_tokens=True)[0]

# %% [markdown] lang=en
# ## Sampling: `do_sample=True`
#
# With sampling, each step *draws* the next token at random, weighted by its probability.
# Likely tokens still win most of the time, but not always, and every run can take a
# different path:

# %%
set_seed(SEED)
for sample_number in range(1, 4):
    sampled_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    print(f"sample {sample_number}: {tokenizer.batch_decode(sampled_ids, skip_special_tokens=True)[0]!r}")

# %% [markdown] lang=en
# ## Repeatable samples: `set_seed`
#
# The draws come from a pseudo-random number generator. `set_seed` puts it (and Python's
# and NumPy's) into a fixed state, so the same seed gives the same sample, on the same
# machine and library versions. You only need it when you want to reproduce a result.

# %%
def sample_with_seed(seed):
    """One sampled continuation of 'I am a cat.' after set_seed(seed)."""
    set_seed(seed)
    sampled_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    return tokenizer.batch_decode(sampled_ids, skip_special_tokens=True)[0]


first, second, other = sample_with_seed(SEED), sample_with_seed(SEED), sample_with_seed(SEED + 1)
print(f"seed {SEED}:     {first!r}")
print(f"seed {SEED} again: {second!r}")
print(f"seed {SEED + 1}:     {other!r}")
print("same seed, same sample:", first == second)

# %% [markdown] lang=en
# ## What temperature, top-k and top-p do
#
# Before drawing, `generate()` can reshape the next-token distribution. Three settings,
# applied in this order:
#
# - `temperature` divides the logits: below 1 the distribution gets sharper (closer to
#   greedy), above 1 flatter (more surprising choices).
# - `top_k` keeps only the k most likely tokens.
# - `top_p` (nucleus sampling) keeps the most likely tokens until their probabilities add
#   up to p, so the number of candidates adapts to how sure the model is.
#
# Unless the generation config says otherwise, sampling uses `temperature=1.0`, `top_k=50`
# and `top_p=1.0`. `companion.sampling` applies the same steps by hand (the course's tests
# check it against transformers' own `TemperatureLogitsWarper`, `TopKLogitsWarper` and
# `TopPLogitsWarper`). Here is the distribution of the token after "I am a cat.":

# %%
from companion.inspection import next_token_logits
from companion.sampling import compare_settings_table

cat_logits = next_token_logits(model, tokenizer, "I am a cat.")[0]  # (vocabulary,)
settings = {
    "original": {},
    "T=0.5": {"temperature": 0.5},
    "T=1.5": {"temperature": 1.5},
    "top_k=3": {"top_k": 3},
    "top_p=0.9": {"top_p": 0.9},
}
print(compare_settings_table(cat_logits, tokenizer, settings, top=8))

# %%
from companion.plots import plot_sampling_settings

figure = plot_sampling_settings(cat_logits, tokenizer, settings, top=8)

# %% [markdown] lang=en
# The probabilities of the surviving tokens are scaled up so they add up to 1 again. Taken
# to the extreme, a very low temperature or `top_k=1` leaves only the most likely token,
# and sampling becomes greedy decoding:

# %%
set_seed(SEED)
top_1_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, top_k=1)
print("sampling with top_k=1 equals greedy:", torch.equal(top_1_ids, greedy_ids))

# %% [markdown] lang=en
# In text, a low temperature keeps sampling close to greedy decoding, a high one lets it
# wander. Here we draw 10 short continuations at each temperature in one call
# (`num_return_sequences=10`) and count how many different texts come out:
#
# %%
for temperature in (0.3, 1.0, 1.5):
    set_seed(SEED)
    sampled_ids = model.generate(
        **model_inputs, max_new_tokens=12, do_sample=True, temperature=temperature, num_return_sequences=10
    )
    texts = tokenizer.batch_decode(sampled_ids[:, model_inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    print(f"temperature={temperature}: 10 samples, {len(set(texts))} distinct, e.g. {texts[-1]!r}")

# %% [markdown] lang=en
# ## Which mode for which task?
#
# - **Input-grounded tasks** have one right answer fixed by the input: translation,
#   transcribing audio, summarising, extracting facts from a text, answering from a given
#   document. You want the most likely output, so decode greedily (or with beam search).
# - **Creative tasks** benefit from variety: stories, chat, brainstorming. Sample, usually
#   with a moderate temperature and top-p, and set a seed when you need to reproduce a run.
#
# **Beam search** (`num_beams=4`, with `do_sample=False`) is a middle way for the first
# kind of task: instead of committing to one token per step, it keeps the 4 most likely
# partial sequences and returns the most likely complete one. It costs about 4 times the
# computation and repeats itself just like greedy decoding on open-ended prompts:

# %%
beam_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=4)
tokenizer.batch_decode(beam_ids, skip_special_tokens=True)[0]

# %% [markdown] lang=en
# ## The same on a real LLM
#
# The tiny model was trained on a handful of sentence patterns. A real (small) LLM shows the
# same picture with more varied language: greedy decoding gets stuck in a loop, sampling
# does not, and a high temperature starts producing nonsense.

# %%
if REAL_LLM is None:
    print("REAL_LLM is None: skipped.")
else:
    if REAL_LLM == MODEL:
        real_model, real_tokenizer = model, tokenizer
    else:
        real_model, real_tokenizer = companion.load_model(REAL_LLM)
    real_settings = {
        "greedy": {"do_sample": False},
        "sampling, temperature=0.7, top_p=0.9": {"do_sample": True, "temperature": 0.7, "top_p": 0.9},
        "sampling, temperature=1.5": {"do_sample": True, "temperature": 1.5},
    }
    for label, options in real_settings.items():
        set_seed(SEED)
        text = companion.generate_text(real_model, real_tokenizer, "I am a cat.", max_new_tokens=25, **options)[0]
        print(f"{label}:\n    {text!r}")

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1.** Decide for each task whether you would decode greedily or sample.

# %%
from companion.exercises.generation_mode import check_decoding_modes, check_tokens_left

answer = {
    "translate a sentence into German": None,  # "greedy" or "sampling"
    "transcribe a voice recording": None,
    "extract the date from an email": None,
    "write a bedtime story": None,
    "suggest names for a new cafe": None,
}
check_decoding_modes(answer)

# %% [markdown] lang=en
# *Solution:*

# %%
answer = {
    "translate a sentence into German": "greedy",  # one right translation, fixed by the input
    "transcribe a voice recording": "greedy",  # the words are in the recording
    "extract the date from an email": "greedy",  # the date is in the email
    "write a bedtime story": "sampling",  # variety is the point
    "suggest names for a new cafe": "sampling",  # many good answers
}
check_decoding_modes(answer)

# %% [markdown] lang=en
# **Exercise 2.** How many tokens can still be drawn after "I am a cat." with `top_p=0.9`?
# Compute it from `cat_logits` yourself (softmax, sort, running total) rather than with
# `companion.sampling`.

# %%
answer = None  # your code here
check_tokens_left(answer, cat_logits, top_p=0.9)

# %% [markdown] lang=en
# *Solution:*

# %%
probabilities = torch.softmax(cat_logits, dim=-1)
sorted_probabilities = torch.sort(probabilities, descending=True).values
running_total = torch.cumsum(sorted_probabilities, dim=-1)
answer = int((running_total < 0.9).sum()) + 1  # the tokens below 0.9, plus the one that reaches it
check_tokens_left(answer, cat_logits, top_p=0.9)

# %% [markdown] lang=en
# ## Summary
#
# - Greedy decoding (`do_sample=False`) picks the most likely token every time: repeatable,
#   right for input-grounded tasks, but prone to loops in open-ended text.
# - `do_sample=True` draws from the distribution; `set_seed` makes a sample repeatable.
# - `temperature` sharpens (< 1) or flattens (> 1) the distribution, `top_k` and `top_p`
#   cut off its unlikely tail; `top_k=1` is greedy decoding again.
# - Beam search (`num_beams`) looks for the most likely whole sequence; use it, like greedy
#   decoding, where the input determines the answer.
#
# Next, notebook 04: batches and the padding side.
