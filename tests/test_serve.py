"""`transformers serve` (transformers 5.24) with the official `openai` client, as notebook 09 uses them.

The test starts the server on 127.0.0.1 (a free port) with a course model's local folder, offline
on the CPU, asks it with `openai` (plain and streamed), compares the answer with `model.generate()`
greedy in this process, and stops the server. It needs the packages `transformers serve` checks
for (`is_serve_available()` in transformers/utils/import_utils.py: pydantic, fastapi, uvicorn,
openai); without them it is skipped and says which are missing.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest
import torch

SERVING_PACKAGES = ["pydantic", "fastapi", "uvicorn", "openai"]
MISSING = [name for name in SERVING_PACKAGES if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"transformers serve needs {', '.join(MISSING)} (not installed)")

NEW_TOKENS = 12


@contextmanager
def served(folder: str):
    """`transformers serve folder` on 127.0.0.1 until the block ends; yields the base URL of its API."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", folder,
               "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"})
    try:
        for _ in range(240):
            if server.poll() is not None:
                pytest.fail(f"transformers serve exited with {server.returncode}:\n{server.stdout.read()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not answer /health within 2 minutes")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_completions_of_a_base_model(tiny):
    from openai import OpenAI

    model, tokenizer = tiny
    prompt = "A list of colors: red, blue"
    inputs = tokenizer([prompt], return_tensors="pt")
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    expected = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    with served(model.name_or_path) as base_url:
        client = OpenAI(base_url=base_url, api_key="not-checked")
        request = dict(model=model.name_or_path, prompt=prompt, max_tokens=NEW_TOKENS, temperature=0)
        reply = client.completions.create(**request).choices[0].text
        chunks = [chunk.choices[0].text for chunk in client.completions.create(**request, stream=True) if chunk.choices]
    assert reply == expected
    assert len(chunks) > 1 and "".join(chunks) == reply


@pytest.mark.slow
def test_chat_completions_of_an_instruct_model(smollm2):
    from openai import OpenAI

    model, tokenizer = smollm2
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    expected = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    with served(model.name_or_path) as base_url:
        client = OpenAI(base_url=base_url, api_key="not-checked")
        request = dict(model=model.name_or_path, messages=messages, max_tokens=NEW_TOKENS, temperature=0)
        reply = client.chat.completions.create(**request).choices[0].message.content
        chunks = [
            chunk.choices[0].delta.content or ""
            for chunk in client.chat.completions.create(**request, stream=True)
            if chunk.choices
        ]
    assert reply == expected
    assert len(chunks) > 1 and "".join(chunks) == reply
