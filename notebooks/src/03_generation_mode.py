# %% [markdown] lang=en
# # 03 · Wrong generation mode
#
# Unless its generation config says otherwise, `generate()` decodes **greedily**: at every
# step it takes the single most likely token. That is right for some tasks and gives dull,
# repetitive text for others. This notebook compares greedy decoding with **sampling**, shows
# the quiet mistake of passing sampling settings without switching sampling on, and the
# settings that stop greedy decoding from repeating itself.
#
# **What you will learn**
#
# - why greedy decoding repeats itself, and how `do_sample=True` changes that
# - why `temperature=0.7` on its own changes nothing, and which warning tells you so
# - to make sampling repeatable with `set_seed`
# - what `temperature`, `top_k`, `top_p` and `min_p` do to the next-token distribution (seen
#   in a table and a chart)
# - how `repetition_penalty` and `no_repeat_ngram_size` break a greedy loop
# - which mode suits which task, and what beam search (`num_beams`) is

# %% [colab-install]

# %% tags=parameters
MODEL = "tutorial-tiny"  # or "smollm2-135m" (real small LLM, CPU); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization (far less memory)
MAX_NEW_TOKENS = 30  # upper bound on new tokens per generate() call
SEED = 0  # set_seed(SEED) before sampling makes the samples repeatable
REAL_MODEL = "smollm2-135m"  # a real small LLM for the side-by-side at the end (about 10 s on a CPU); None skips it

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
import torch
from transformers import set_seed

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
inputs = tokenizer(["I am a cat."], return_tensors="pt").to(model.device)
prompt_length = inputs["input_ids"].shape[1]  # the new tokens start after this many
print(type(model).__name__, "on", model.device)

# %% [markdown] lang=en
# ## Greedy decoding repeats itself
#
# Once a phrase is the most likely continuation, it stays the most likely continuation, so
# greedy decoding easily ends up in a loop:

# %%
greedy_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
tokenizer.batch_decode(greedy_ids, skip_special_tokens=True)

# %% [markdown] lang=en
# ## Sampling: `do_sample=True`
#
# With sampling, each step *draws* the next token at random, weighted by its probability.
# Likely tokens still win most of the time, but not always, and every run can take a
# different path:

# %%
set_seed(SEED)
for sample_number in range(1, 4):
    sampled_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    print(f"sample {sample_number}:", tokenizer.batch_decode(sampled_ids, skip_special_tokens=True))

# %% [markdown] lang=en
# ## The quiet mistake: sampling settings without `do_sample=True`
#
# A common call looks like this: someone wants livelier text, adds `temperature=0.7`, and
# forgets `do_sample`. Watch the output:

# %%
forgotten_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=0.7)
print(tokenizer.batch_decode(forgotten_ids, skip_special_tokens=True))
print("identical to the greedy output:", torch.equal(forgotten_ids, greedy_ids))

# %% [markdown] lang=en
# The text is the greedy loop again, token for token. `temperature` only reshapes the
# distribution that sampling draws from; in greedy mode nothing is drawn, so it has no
# effect. transformers says so in the line under the cell: *"The following generation
# flags are not valid and may be ignored: ['temperature']"*. In transformers 5.24 that
# message comes from `GenerationConfig.validate()` (`generation/configuration_utils.py`):
# whenever `do_sample` is not `True`, it lists the sampling-only flags set to something other
# than their default (`temperature`, `top_p`, `top_k`, `min_p`, ...). It is a logged warning,
# not an error: `generate()` goes on decoding greedily. And each message is logged **once per
# session** (`logger.warning_once`): make the same mistake again later and nothing is printed.
# So do not rely on the warning; write `do_sample=` in every call.
#
# The fix is one argument, `do_sample=True`. To see more than one draw, this call asks for
# three samples at once (`num_return_sequences=3`):

# %%
set_seed(SEED)
fixed_ids = model.generate(
    **inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, temperature=0.7, num_return_sequences=3
)
greedy_text = tokenizer.batch_decode(greedy_ids, skip_special_tokens=True)[0]
for text in tokenizer.batch_decode(fixed_ids, skip_special_tokens=True):
    print(f"identical to the greedy output: {text == greedy_text!s:5}  {text!r}")

# %% [markdown] lang=en
# Now the temperature takes effect, and no sample is the greedy text. With `tutorial-tiny`
# at 0.7 (a distribution sharper than the model's own), "I am a cat." still comes back
# often, but each sample leaves the loop somewhere.

# %% [markdown] lang=en
# ## Repeatable samples: `set_seed`
#
# The draws come from a pseudo-random number generator. `set_seed` puts it (and Python's
# and NumPy's) into a fixed state, so the same seed gives the same sample, on the same
# machine and library versions. You only need it when you want to reproduce a result.

# %%
def sample_with_seed(seed):
    """One sampled continuation of 'I am a cat.' after set_seed(seed), as text."""
    set_seed(seed)
    sampled_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True)
    return tokenizer.batch_decode(sampled_ids, skip_special_tokens=True)[0]


first, second, other = sample_with_seed(SEED), sample_with_seed(SEED), sample_with_seed(SEED + 1)
print(f"seed {SEED}:       {first!r}")
print(f"seed {SEED} again: {second!r}")
print(f"seed {SEED + 1}:       {other!r}")
print("same seed, same sample:", first == second)

# %% [markdown] lang=en
# ## What temperature, top-k, top-p and min-p do
#
# Before drawing, `generate()` can reshape the next-token distribution. In transformers 5.24
# (`GenerationMixin._get_logits_processor`) these settings are applied in this order, and
# only when `do_sample=True`:
#
# - `temperature` divides the logits: below 1 the distribution gets sharper (closer to
#   greedy), above 1 flatter (more surprising choices). It removes no token.
# - `top_k` keeps only the k most likely tokens.
# - `top_p` (**nucleus sampling**, Holtzman et al. 2020, *The Curious Case of Neural Text
#   Degeneration*, ICLR 2020, arXiv:1904.09751) keeps the most likely tokens until their
#   probabilities add up to p, so the number of candidates adapts to how sure the model is.
# - `min_p` (Nguyen et al. 2024, arXiv:2407.01082) keeps every token whose probability is at
#   least `min_p` times that of the most likely token. transformers' `MinPLogitsWarper`
#   computes exactly that threshold, `min_p * max(probabilities)`, and removes the tokens
#   below it; typical values are 0.01 to 0.2.
#
# Where neither the call nor the model's generation config sets them, sampling uses
# `temperature=1.0`, `top_k=50` and `top_p=1.0`, and no `min_p` (transformers 5.24,
# `GenerationConfig._get_default_generation_params`). `companion.sampling` applies the same
# steps by hand; the course's tests check it against transformers' own
# `TemperatureLogitsWarper`, `TopKLogitsWarper`, `TopPLogitsWarper` and `MinPLogitsWarper`.
# Here is the distribution of the token after "I am a cat.":

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
    "min_p=0.1": {"min_p": 0.1},
}
print(compare_settings_table(cat_logits, tokenizer, settings, top=8))

# %%
from companion.plots import plot_sampling_settings

figure = plot_sampling_settings(cat_logits, tokenizer, settings, top=8)

# %% [markdown] lang=en
# The probabilities of the surviving tokens are scaled up so they add up to 1 again. With
# `tutorial-tiny`, `T=0.5` lifts the top token `' I'` from 57 % to 94 % and `T=1.5` lowers
# it to 32 %, while all 768 tokens stay drawable; `top_k=3` leaves 3 tokens, `top_p=0.9`
# leaves 9 and `min_p=0.1` leaves 3: the threshold is a tenth of 57 %, and only `' The'` and
# `' My'` reach it besides `' I'`.
#
# Both `top_p` and `min_p` adapt to the model's confidence, but differently. `min_p` looks
# only at the top token; `top_p` must collect 90 % of the probability, and when the rest is a
# long tail of small probabilities, that takes many tokens:

# %%
from companion.sampling import count_candidates, sampling_distribution

for prompt in ["The cat is", "I am a cat.", "I like to"]:
    logits = next_token_logits(model, tokenizer, prompt)[0]
    top_probability = torch.softmax(logits, dim=-1).max().item()
    kept_by_min_p = count_candidates(sampling_distribution(logits, min_p=0.1))
    kept_by_top_p = count_candidates(sampling_distribution(logits, top_p=0.9))
    print(f"{prompt!r:14} top token {top_probability:6.1%} | min_p=0.1 keeps tokens from "
          f"{0.1 * top_probability:5.2%} up: {kept_by_min_p:3} tokens | top_p=0.9 keeps {kept_by_top_p:3} tokens")

# %% [markdown] lang=en
# With `tutorial-tiny`: after "The cat is" the model is sure (78 %) and `min_p` leaves that one
# token, while `top_p` still lets 10 tokens through; after "I like to" the top token has only
# 10 %, so `min_p` opens up to 27 tokens, and `top_p` needs 95.
#
# Taken to the extreme, a very low temperature or `top_k=1` leaves only the most likely
# token, and sampling becomes greedy decoding:

# %%
set_seed(SEED)
top_1_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, top_k=1)
print("sampling with top_k=1 equals greedy:", torch.equal(top_1_ids, greedy_ids))

# %% [markdown] lang=en
# ## Temperature in text
#
# A low temperature keeps sampling close to greedy decoding, a high one lets it wander.
# Here we draw 10 short continuations at each temperature in one call
# (`num_return_sequences=10`), count how many are the greedy text and how many different
# texts come out, and print the first three. Every temperature starts from the same seed:

# %%
greedy_start = tokenizer.batch_decode(greedy_ids[:, prompt_length:prompt_length + 12], skip_special_tokens=True)[0]
for temperature in (0.3, 1.0, 1.5):
    set_seed(SEED)
    sampled_ids = model.generate(
        **inputs, max_new_tokens=12, do_sample=True, temperature=temperature, num_return_sequences=10
    )
    texts = tokenizer.batch_decode(sampled_ids[:, prompt_length:], skip_special_tokens=True)
    print(f"temperature={temperature}: {texts.count(greedy_start)} of 10 are the greedy text, "
          f"{len(set(texts))} distinct")
    for text in texts[:3]:
        print("    ", repr(text))

# %% [markdown] lang=en
# With `tutorial-tiny`, at temperature 0.3 all ten samples are the greedy loop. At 1.0 none
# of them is, and they are sentences the model learned. At 1.5 the draws leave those
# patterns: the third sample turns into a list of numbers in the middle of a sentence. Since
# each temperature starts from the same seed, the samples at 1.0 and 1.5 begin with the
# same words and part ways where the flatter distribution lets a less likely token win.
#
# ## Breaking the loop without sampling
#
# Sometimes you want greedy decoding (repeatable, the most likely text) without the loop.
# Two settings of `generate()` act in greedy mode too, because transformers 5.24 adds them to
# the logits processors whether or not `do_sample` is set:
#
# - `repetition_penalty` (from CTRL, Keskar et al. 2019, arXiv:1909.05858): in
#   `RepetitionPenaltyLogitsProcessor`, every token that already occurs in the sequence,
#   prompt included, has its logit divided by the penalty if it is positive and multiplied by
#   it if negative, once, however often the token occurred. 1.0 changes nothing; the CTRL
#   paper suggests about 1.2.
# - `no_repeat_ngram_size=n` (`NoRepeatNGramLogitsProcessor`): no sequence of n tokens may
#   occur twice (the prompt counts too); the token that would complete a repeat is removed.

# %%
loop_breakers = {
    "do_sample=False": {},
    "do_sample=False, repetition_penalty=1.5": {"repetition_penalty": 1.5},
    "do_sample=False, no_repeat_ngram_size=3": {"no_repeat_ngram_size": 3},
}
for label, options in loop_breakers.items():
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, **options)
    print(f"{label}:\n    {tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]!r}")

# %% [markdown] lang=en
# With `tutorial-tiny`, both settings end the loop: the penalty makes "I am a cat." less
# likely than other sentences the model knows (and the text ends early with the end-of-sequence
# token), and the 3-gram ban removes " cat" after the second " am a", because " am a cat" is
# already in the prompt, so the model writes "I am a hen." and moves on. Both are blunt: a
# penalty also hits words that *should* repeat (names, "the"), and an n-gram ban can never
# write the same three tokens twice, even where the text needs them.
#
# ## Which mode for which task?
#
# - **Input-grounded tasks** have one right answer fixed by the input: translation,
#   transcribing audio, summarising, extracting facts from a text, answering from a given
#   document. You want the most likely output, so decode greedily (or with beam search).
# - **Creative tasks** benefit from variety: stories, chat, brainstorming. Sample, usually
#   with a moderate temperature and top-p or min-p, and set a seed when you need to reproduce
#   a run.
#
# **Beam search** (`num_beams=4`, with `do_sample=False`) is a middle way for the first
# kind of task: instead of committing to one token per step, it keeps the 4 most likely
# partial sequences and returns the most likely complete one. Each step runs the model on
# 4 sequences instead of 1. On this open-ended prompt it loops just like greedy decoding:

# %%
beam_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=4)
tokenizer.batch_decode(beam_ids, skip_special_tokens=True)

# %% [markdown] lang=en
# ## The same on a real LLM
#
# The tiny model was trained on a handful of sentence patterns. A real (small) LLM,
# `smollm2-135m` by default (skipped if `REAL_MODEL` is None), shows the same picture with
# more varied language. Same calls, same seed before each:

# %%
if REAL_MODEL is None:
    print("REAL_MODEL is None: skipped.")
else:
    if REAL_MODEL == MODEL:
        real_model, real_tokenizer = model, tokenizer
    else:
        real_model, real_tokenizer = companion.load_model(REAL_MODEL)
    real_inputs = real_tokenizer(["I am a cat."], return_tensors="pt").to(real_model.device)
    real_settings = {
        "greedy": {"do_sample": False},
        "greedy, repetition_penalty=1.3": {"do_sample": False, "repetition_penalty": 1.3},
        "sampling, temperature=0.7, top_p=0.9": {"do_sample": True, "temperature": 0.7, "top_p": 0.9},
        "sampling, temperature=1.5": {"do_sample": True, "temperature": 1.5},
        "sampling, temperature=1.5, min_p=0.1": {"do_sample": True, "temperature": 1.5, "min_p": 0.1},
    }
    for label, options in real_settings.items():
        set_seed(SEED)
        real_ids = real_model.generate(**real_inputs, max_new_tokens=25, **options)
        new_text = real_tokenizer.batch_decode(real_ids[:, real_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
        print(f"{label}:\n    {new_text!r}")

# %% [markdown] lang=en
# With `smollm2-135m`: greedy decoding loops on "She is a cat.", the repetition penalty breaks
# the loop, sampling at 0.7 with top-p stays on topic, and temperature 1.5 drifts into
# broken words. Adding `min_p=0.1` at the same temperature cuts off the unlikely tail that
# the flat distribution had made drawable, and the text is readable again: that is the
# use the min-p paper argues for, a high temperature for variety without the nonsense.
#
# ## Exercises
#
# **Exercise 1.** Decide for each task whether you would decode greedily or sample.

# %%
from companion.exercises.generation_mode import (
    check_decoding_modes,
    check_fixed_sampling,
    check_greedy_predictions,
    check_loop_breaking_penalty,
    check_tokens_left,
)

answer = None  # your code here: a dict task -> "greedy" or "sampling"
check_decoding_modes(answer)

# %% tags=solution
answer = {
    "translate a sentence into German": "greedy",  # one right translation, fixed by the input
    "transcribe a voice recording": "greedy",  # the words are in the recording
    "extract the date from an email": "greedy",  # the date is in the email
    "write a bedtime story": "sampling",  # variety is the point
    "suggest names for a new cafe": "sampling",  # many good answers
}
check_decoding_modes(answer)

# %% [markdown] lang=en
# **Exercise 2 (predict, then run).** Each call below runs on `inputs` with
# `max_new_tokens=MAX_NEW_TOKENS` right after `set_seed(SEED)`. Which of them return exactly
# the greedy token ids? Predict first (True or False), check, and only then run the calls
# and compare with `greedy_ids`.
#
# | label | extra arguments of `model.generate` |
# |---|---|
# | `"temperature=1.5"` | `temperature=1.5` |
# | `"do_sample=True, temperature=1.5"` | `do_sample=True, temperature=1.5` |
# | `"do_sample=True, top_k=1"` | `do_sample=True, top_k=1` |
# | `"top_k=5, top_p=0.5"` | `top_k=5, top_p=0.5` |
# | `"do_sample=False, repetition_penalty=1.3"` | `do_sample=False, repetition_penalty=1.3` |

# %%
answer = None  # your code here: a dict label -> True (greedy text) or False
check_greedy_predictions(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS, SEED)

# %% tags=solution
from companion.exercises.generation_mode import CALLS_TO_PREDICT

answer = {}
for label, options in CALLS_TO_PREDICT.items():
    set_seed(SEED)
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, **options)
    answer[label] = torch.equal(output_ids, greedy_ids)
    print(f"{label:42} same as greedy: {answer[label]}")
check_greedy_predictions(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# **Exercise 3 (fix a broken call).** A colleague wants a different introduction on every
# run and writes
#
# ```python
# story_inputs = tokenizer(["My name is"], return_tensors="pt").to(model.device)
# story_ids = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=1.2, top_p=0.95)
# ```
#
# but gets the same text every time. Fix the call, keeping its settings, call `set_seed(SEED)`
# right before it (so that the check can draw the same sample), and store the returned token
# ids in `answer`.

# %%
answer = None  # your code here
check_fixed_sampling(answer, model, tokenizer, "My name is", MAX_NEW_TOKENS, SEED)

# %% tags=solution
story_inputs = tokenizer(["My name is"], return_tensors="pt").to(model.device)
set_seed(SEED)
answer = model.generate(**story_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=True, temperature=1.2, top_p=0.95)
print(tokenizer.batch_decode(answer, skip_special_tokens=True))
check_fixed_sampling(answer, model, tokenizer, "My name is", MAX_NEW_TOKENS, SEED)

# %% [markdown] lang=en
# **Exercise 4.** How many tokens can still be drawn after "I am a cat." with `top_p=0.9`?
# Compute it from `cat_logits` yourself (softmax, sort, running total) rather than with
# `companion.sampling`.

# %%
answer = None  # your code here
check_tokens_left(answer, cat_logits, top_p=0.9)

# %% tags=solution
probabilities = torch.softmax(cat_logits, dim=-1)
sorted_probabilities = torch.sort(probabilities, descending=True).values
running_total = torch.cumsum(sorted_probabilities, dim=-1)
answer = int((running_total < 0.9).sum()) + 1  # the tokens below 0.9, plus the one that reaches it
check_tokens_left(answer, cat_logits, top_p=0.9)

# %% [markdown] lang=en
# **Exercise 5 (change a setting to reach a goal).** Keep greedy decoding of "I am a cat."
# with `MAX_NEW_TOKENS` new tokens, and use only `repetition_penalty`. What is the smallest
# penalty, trying 1.0, 1.1, 1.2, ... up to 2.0, at which no sentence of the text (prompt
# included) appears twice? `companion.exercises.generation_mode.repeats_a_sentence(text)`
# tells you whether a text still repeats a sentence. Store the penalty in `answer`.

# %%
answer = None  # your code here
check_loop_breaking_penalty(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS)

# %% tags=solution
from companion.exercises.generation_mode import repeats_a_sentence

for step in range(11):
    penalty = round(1.0 + step / 10, 1)  # 1.0, 1.1, ..., 2.0
    output_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, repetition_penalty=penalty)
    text = tokenizer.batch_decode(output_ids, skip_special_tokens=True)[0]
    print(f"repetition_penalty={penalty}: {text!r}")
    if not repeats_a_sentence(text):
        break  # the first penalty without a repeated sentence is the smallest
answer = penalty
check_loop_breaking_penalty(answer, model, tokenizer, "I am a cat.", MAX_NEW_TOKENS)

# %% [markdown] lang=en
# ## Summary
#
# - Greedy decoding (`do_sample=False`) picks the most likely token every time: repeatable,
#   right for input-grounded tasks, but prone to loops in open-ended text.
# - `do_sample=True` draws from the distribution; `set_seed` makes a sample repeatable.
# - `temperature`, `top_k`, `top_p` and `min_p` act only with `do_sample=True`. Without it,
#   they are ignored, and transformers says so once per session ("The following generation
#   flags are not valid and may be ignored"): always write `do_sample=` explicitly.
# - `temperature` sharpens (< 1) or flattens (> 1) the distribution; `top_k`, `top_p` and
#   `min_p` cut off its unlikely tail; `top_k=1` is greedy decoding again.
# - `repetition_penalty` and `no_repeat_ngram_size` work in greedy mode too and break loops,
#   at the price of also discouraging wanted repeats.
# - Beam search (`num_beams`) looks for the most likely whole sequence; use it, like greedy
#   decoding, where the input determines the answer.
#
# **References**
#
# - Holtzman, Buys, Du, Forbes, Choi (2020). *The Curious Case of Neural Text Degeneration.*
#   ICLR 2020. arXiv:1904.09751 (nucleus / top-p sampling).
# - Nguyen, Baker, Neo, Roush, Kirsch, Shwartz-Ziv (2024). *Turning Up the Heat: Min-p
#   Sampling for Creative and Coherent LLM Outputs.* arXiv:2407.01082 (min-p sampling).
# - Keskar, McCann, Varshney, Xiong, Socher (2019). *CTRL: A Conditional Transformer Language
#   Model for Controllable Generation.* arXiv:1909.05858 (repetition penalty).
#
# Next, notebook 04: batches and the padding side.
