# %% [markdown] lang=en
# # 06 · Going further: latency, throughput, memory
#
# The earlier notebooks made `generate()` produce the right text. This one looks at what it
# costs: how long a token takes, how many tokens per second a machine can produce, and how
# much memory the model needs. Every figure here is measured live on your machine.
#
# **What you will learn**
#
# - why each new token costs one full read of the model's weights, and the speed limit
#   that follows from your machine's memory bandwidth
# - how batching prompts into one `generate()` call multiplies throughput (measured)
# - how much memory the same model takes in full precision, 8-bit and 4-bit (measured)
# - how to show tokens as they are generated with `TextStreamer`
# - where to go next: the guides and libraries for serious deployments, and notebooks 07 and 08

# %% [colab-install]

# %% tags=parameters
MODEL = "smollm2-135m"  # a real small LLM on CPU; or "tutorial-tiny" (instant); "openlm-research/open_llama_7b" in 4-bit on a GPU
QUANTIZATION = None  # None for full precision; "4bit" or "8bit" for bitsandbytes quantization
MAX_NEW_TOKENS = 12  # upper bound on new tokens per generate() call (kept small: we time things)
BATCH_SIZE = 8  # how many prompts go into one batch in the throughput experiment (at most 16)
QUANTIZATIONS_TO_COMPARE = [None, "8bit", "4bit"]  # each is loaded once to measure it; drop None for a 7B model
SEED = 0  # setup_notebook seeds Python, NumPy and torch with it, so sampling is repeatable

# %% tags=nbval-ignore-output
import companion

companion.setup_notebook(seed=SEED)

# %%
from transformers import TextStreamer

from companion.throughput import (
    BATCH_PROMPTS,
    decode_ms_per_token,
    linear_layers_ms,
    measure_batching,
    memory_bandwidth_gb_per_s,
    weight_bytes,
)

model, tokenizer = companion.load_model(MODEL, quantization=QUANTIZATION)
print(type(model).__name__, "on", model.device)

# %% [markdown] lang=en
# ## Latency: what one token costs
#
# To produce one new token, the model runs one forward pass, and that pass multiplies the
# hidden state with every weight matrix of the model. So **every new token reads all the
# weights once**. For a single prompt there is very little arithmetic per weight byte, and
# the processor spends most of its time waiting for memory. How many bytes is that?

# %%
weight_byte_count = weight_bytes(model)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"{parameter_count:,} parameters, {weight_byte_count / 1e6:.1f} MB of weights read per new token")

# %% [markdown] lang=en
# Next we measure how fast this machine moves memory: we copy a large tensor (far bigger
# than any CPU cache) and count the bytes read and written. Dividing the weight bytes by this
# bandwidth gives the **floor**: no implementation can generate a token faster than the time
# it takes to read the weights once. Then we time real greedy generation, one prompt,
# counting only the new tokens (the prompt's processing is subtracted). Timings vary from
# run to run and machine to machine, so your numbers will differ from the ones saved here.

# %% tags=nbval-ignore-output
bandwidth = memory_bandwidth_gb_per_s(megabytes=256, repeats=3)
bandwidth_gb_per_s = bandwidth["copy_gb_per_s"]
floor_ms = weight_byte_count / (bandwidth_gb_per_s * 1e9) * 1000
ms_per_token = decode_ms_per_token(model, tokenizer, "The capital of France is", new_tokens=MAX_NEW_TOKENS, repeats=1)
kernels_ms = linear_layers_ms(model)  # only the model's linear layers, on one row

print(f"memory bandwidth:       {bandwidth_gb_per_s:.1f} GB/s")
print(f"floor:                  {floor_ms:.1f} ms per token")
print(f"measured:               {ms_per_token:.1f} ms per token ({1000 / ms_per_token:.0f} tokens/s)")
print(f"measured / floor:       {ms_per_token / floor_ms:.1f}x")
print(f"linear layers alone:    {kernels_ms:.1f} ms ({kernels_ms / ms_per_token:.0%} of a step)")

# %% [markdown] lang=en
# On a CPU the measured time is a few times the floor. Where does the rest go? The last line
# times only the model's linear layers (`linear_layers_ms`): the matrix-vector products of one
# step at batch 1, with nothing around them. For `smollm2-135m` on a quiet machine they are most
# of the step:
# `python -m companion.bench` (quoted in the course README) measured 47.5 ms of linear layers
# in a 63.3 ms step, about 75 %. PyTorch's single-row kernels read the weights at only about a
# third of the speed of a plain copy, so they alone take 2.7x the floor. The remaining 16 ms or
# so per step are everything else: attention, norms, the KV cache and the Python loop of
# `generate()`. Your figures vary with the load of the machine (other programs take turns on
# the same cores). The benchmark also tries the usual remedies (bfloat16 weights, a static
# cache, `torch.compile`); notebook 08 looks inside a step and at faster decoding.
#
# Two levers move the floor itself: **read fewer bytes** (smaller weights: the memory
# section below) or **share each read among more tokens** (batching, next).
#
# ## Throughput: batching
#
# A batch of prompts goes through the model together: one read of the weights now serves
# every row of the batch. We generate the same prompts twice, greedily: one by one, and as
# one left-padded batch (the padding of notebook 04), and count the new tokens per second
# of each way. `measure_batching` is a short loop over `companion.generate_ids`; read it
# with `companion.throughput.measure_batching??`.

# %%
prompts = BATCH_PROMPTS[:BATCH_SIZE]
for prompt in prompts:
    print(repr(prompt))

# %% tags=nbval-ignore-output
batching = measure_batching(model, tokenizer, prompts, max_new_tokens=MAX_NEW_TOKENS)
print(f"one by one: {batching.sequential_new_tokens} tokens in {batching.sequential_seconds:.2f} s "
      f"= {batching.sequential_tokens_per_second:.0f} tokens/s")
print(f"as a batch: {batching.batched_new_tokens} tokens in {batching.batched_seconds:.2f} s "
      f"= {batching.batched_tokens_per_second:.0f} tokens/s")
print(f"speed-up:   {batching.speedup:.1f}x")

# %% [markdown] lang=en
# The batch produces several times more tokens per second. The gain is smaller than the
# batch size because a batch step does more arithmetic than a single-row step, rows of
# different lengths carry padding, and the batch runs until its longest answer is done.
#
# Did batching change the answers? Greedy decoding should give the same tokens either way:

# %%
print(f"identical answers: {batching.equal_rows} of {len(prompts)}")
for prompt, alone, batched in zip(prompts[:3], batching.sequential_texts, batching.batched_texts):
    print(f"{prompt!r}\n   alone: {alone!r}\n   batch: {batched!r}")

# %% [markdown] lang=en
# In float32 the answers usually agree exactly. They are not guaranteed to: a batched matrix
# product may add up its numbers in a different order than a single row, the last bits of a
# logit change, and where two tokens are nearly tied the greedy choice can flip. If a row
# differs on your machine, that is the reason, not a padding bug (the first differing
# position is in `batching.first_differences`).
#
# ## Memory: full precision, 8-bit and 4-bit
#
# The guide loads a 7-billion-parameter model with `load_in_4bit`. Here we measure what
# quantization does to the memory of our model: we load it once per setting and ask
# `get_memory_footprint()` (via `companion.footprint_mib`) how much its weights and buffers
# take. These numbers are exact, the same on every machine.

# %%
footprints = {}
for quantization in QUANTIZATIONS_TO_COMPARE:
    if quantization == QUANTIZATION:
        measured_model = model  # loaded above already
    else:
        measured_model, _ = companion.load_model(MODEL, quantization=quantization)
    footprints[quantization] = companion.footprint_mib(measured_model)
    del measured_model
for quantization, mebibytes in footprints.items():
    label = quantization or "full precision"
    print(f"{label:>15}: {mebibytes:7.1f} MiB")

# %%
if None in footprints:
    for quantization in QUANTIZATIONS_TO_COMPARE:
        print(f"{quantization or 'full precision':>15}: {footprints[quantization] / footprints[None]:.2f}x full precision")

# %% [markdown] lang=en
# 8-bit stores each linear layer's weight in one byte instead of four, 4-bit (NF4) in half a
# byte. The ratios stay above 1/4 and 1/8 because bitsandbytes keeps some parts in full
# precision: the token embeddings (for this small model a fifth of all weights), the norms,
# and one scale per block of weights. For a 7B model those parts matter less, and 4-bit
# brings about 28 GB of fp32 weights down to under 4 GB.
#
# Quantization saves memory; it is not automatically faster. On a GPU the smaller weights
# are read faster; on a CPU the kernels that unpack them may cost more than they save.
# `python -m companion.bench` measures both (and the process memory) for this model.
#
# ## Streaming: show tokens as they arrive
#
# A chat interface should not wait for the whole answer. Pass a streamer to `generate()` and
# it receives every new token as soon as it exists. `TextStreamer` prints the text;
# `skip_prompt=True` leaves out the prompt. Streaming does not make generation faster, but
# the first words appear after one step instead of after all of them. (It handles one prompt
# at a time; `TextIteratorStreamer` hands the text to your own loop, e.g. in a web server.)

# %%
streamer = TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
stream_inputs = tokenizer(["Once upon a time, there was a little"], return_tensors="pt").to(model.device)
streamed_ids = model.generate(
    **stream_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, streamer=streamer,
    pad_token_id=tokenizer.eos_token_id,
)

# %% [markdown] lang=en
# ## Exercises
#
# **Exercise 1 (predict, then run).** One `generate()` call on the first 4 of our prompts, as a
# left-padded batch, greedy, with `max_new_tokens=MAX_NEW_TOKENS` and
# `min_new_tokens=MAX_NEW_TOKENS` (so that no row stops early). How many forward passes of the
# model does it make? Write down your prediction; the check runs the call and counts them.

# %%
from companion.exercises.going_further import (
    check_batch_forward_passes,
    check_floor_ms_per_token,
    check_left_padded_answers,
    check_quantization_for_gpu,
    check_seven_billion_memory,
)

exercise_prompts = prompts[:4]
answer = None  # your code here
correct = check_batch_forward_passes(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% tags=solution
# The pass over the prompts gives the first new token of every row, each further pass one more
# token of every row: one pass per new token, whatever the batch size.
answer = MAX_NEW_TOKENS
correct = check_batch_forward_passes(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 2.** Using `weight_byte_count` and `bandwidth_gb_per_s` from above (not
# `floor_ms`), compute the fastest possible time per new token on this machine, in
# milliseconds. (1 GB = 10**9 bytes.)

# %%
answer = None  # your code here
correct = check_floor_ms_per_token(answer, model, bandwidth_gb_per_s)

# %% tags=solution
# One step reads every weight byte once, at bandwidth_gb_per_s * 1e9 bytes per second.
answer = weight_byte_count / (bandwidth_gb_per_s * 1e9) * 1000  # seconds -> milliseconds
correct = check_floor_ms_per_token(answer, model, bandwidth_gb_per_s)

# %% [markdown] lang=en
# **Exercise 3 (fix a broken call).** This batch was meant for a throughput measurement, but
# its answers are wrong: the warning under the cell says why.

# %%
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token  # Llama tokenizers have no pad token (notebook 04)
broken_inputs = tokenizer(exercise_prompts, padding=True, padding_side="right", return_tensors="pt").to(model.device)
broken_ids = model.generate(**broken_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, pad_token_id=tokenizer.pad_token_id)
broken_answers = tokenizer.batch_decode(broken_ids[:, broken_inputs["input_ids"].shape[1]:], skip_special_tokens=True)

# %% [markdown] lang=en
# Fix the call, and hand in the decoded new text of each prompt (a list of 4 strings).

# %%
answer = None  # your code here
correct = check_left_padded_answers(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% tags=solution
fixed_inputs = tokenizer(exercise_prompts, padding=True, padding_side="left", return_tensors="pt").to(model.device)
fixed_ids = model.generate(**fixed_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, pad_token_id=tokenizer.pad_token_id)
answer = tokenizer.batch_decode(fixed_ids[:, fixed_inputs["input_ids"].shape[1]:], skip_special_tokens=True)
correct = check_left_padded_answers(answer, model, tokenizer, exercise_prompts, max_new_tokens=MAX_NEW_TOKENS)

# %% [markdown] lang=en
# **Exercise 4.** The guide's model, `openlm-research/open_llama_7b`, has about 7 billion
# parameters. How many GB do its weights take in fp32 (32 bits each), bf16 (16 bits) and
# 4-bit? Hand in a dict `{"fp32": ..., "bf16": ..., "4bit": ...}` in GB.

# %%
answer = None  # your answer here
correct = check_seven_billion_memory(answer)

# %% tags=solution
parameters_7b = 7e9
answer = {
    "fp32": parameters_7b * 32 / 8 / 1e9,  # bits per parameter / 8 = bytes per parameter
    "bf16": parameters_7b * 16 / 8 / 1e9,
    "4bit": parameters_7b * 4 / 8 / 1e9,
}
print(answer)
correct = check_seven_billion_memory(answer)

# %% [markdown] lang=en
# **Exercise 5 (change a setting to reach a goal).** You want to run the 7B model on a GPU with
# 6 GB of memory for its weights. Which value of the `QUANTIZATION` parameter (`None`, `"8bit"`
# or `"4bit"`) keeps the most precision while the weights still fit? (8-bit stores one byte per
# weight.)

# %%
answer = None  # your code here: None, "8bit" or "4bit"
correct = check_quantization_for_gpu(answer, gpu_gb=6.0)

# %% tags=solution
# None needs 28 GB, "8bit" 7 GB, "4bit" 3.5 GB: only 4-bit fits in 6 GB.
answer = "4bit"
correct = check_quantization_for_gpu(answer, gpu_gb=6.0)

# %% [markdown] lang=en
# ## Further resources
#
# - Notebooks 07 and 08 of this course go on from here: 07 reads the scores behind each chosen
#   token, and 08 looks inside a `generate()` call (the KV cache, prefill and decode) and makes
#   greedy decoding faster with prompt lookup, without changing its output.
# - [Generation strategies guide](https://huggingface.co/docs/transformers/generation_strategies):
#   reach for it when you want another decoding method (beam search, contrastive search,
#   assisted generation and prompt lookup), a `generation_config.json` of your own, or streaming.
# - [`GenerationConfig` and `generate()` API reference](https://huggingface.co/docs/transformers/main_classes/text_generation)
#   (and the [generation utilities](https://huggingface.co/docs/transformers/internal/generation_utils)):
#   when you need the exact meaning and default of a parameter, a logits processor or a
#   stopping criterion.
# - [LLM inference optimization](https://huggingface.co/docs/transformers/llm_optims): when
#   generation is too slow: a static KV cache with `torch.compile`, faster attention kernels,
#   speculative decoding and quantization, in transformers itself.
# - [KV cache strategies](https://huggingface.co/docs/transformers/kv_cache): when long prompts
#   or large batches fill your GPU memory: static, offloaded and quantized caches.
# - [Quantization guide](https://huggingface.co/docs/transformers/main_classes/quantization):
#   when a model does not fit your GPU, or you want to compare bitsandbytes, GPTQ, AWQ and others.
# - [text-generation-inference](https://github.com/huggingface/text-generation-inference):
#   when many users send requests to one model: a production server with continuous batching,
#   streaming and optimized kernels.
# - [Optimum](https://github.com/huggingface/optimum): when you deploy to specific hardware
#   (ONNX Runtime, OpenVINO, Intel, AWS chips and more) and want its optimizations.
#
# ## Summary
#
# - Each new token reads all the weights once, so the time per token on a single prompt is
#   bounded below by weight bytes / memory bandwidth.
# - Batching shares each read among many prompts: several times more tokens per second, with
#   the same greedy answers (up to the last bits of floating point).
# - 8-bit and 4-bit quantization shrink the weights to roughly 0.4x and 0.3x of full
#   precision here, and a 7B model to a size a free GPU can hold.
# - `TextStreamer(tokenizer, skip_prompt=True)` shows the answer while it is generated.
#
# You can now generate text with `generate()`, control its length and its decoding, batch and
# pad correctly, prompt chat models, and measure what it all costs. Notebooks 07 and 08 go
# further: the scores behind each token, and what happens inside a `generate()` call.
