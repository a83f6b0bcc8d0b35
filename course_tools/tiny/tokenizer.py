"""Train the byte-level BPE tokenizer of the course's tiny model `tutorial-tiny`.

It follows the Llama conventions the notebooks point out:

* special tokens `<unk>` = 0, `<s>` = 1 (BOS), `</s>` = 2 (EOS);
* BOS is added in front of every text, EOS is *not* added;
* there is NO pad token (notebook on batching shows the error this causes and
  sets `tokenizer.pad_token = tokenizer.eos_token`);
* padding side is "right" (the default that breaks batched generation).

Numbers: the byte-level pre-tokenizer keeps " 17" together, and the corpus has
so much counting that BPE learns every number from 1 to 60 as one token
(" 17" is one token, so ", 17" costs two tokens: "," and " 17").

Used by `course_tools/tiny/train.py`; the notebooks load the saved result with
`AutoTokenizer.from_pretrained(MODEL_DIR)`.
"""

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>"]  # ids 0, 1, 2 (Llama order)
UNK_TOKEN, BOS_TOKEN, EOS_TOKEN = SPECIAL_TOKENS


def train_tokenizer(documents, vocab_size=512):
    """Train a byte-level BPE on `documents` (list of str); return a PreTrainedTokenizerFast."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    # add_prefix_space=False: "1, 2, 3" must not become " 1, 2, 3".
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()

    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,  # added first, so they get ids 0, 1, 2
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is ever unknown
        min_frequency=2,
        show_progress=False,
    )
    tokenizer.train_from_iterator(documents, trainer=trainer)

    # Add <s> in front of every text (and of both parts of a pair, as Llama does); never add </s>.
    bos_id = tokenizer.token_to_id(BOS_TOKEN)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS_TOKEN} $A",
        pair=f"{BOS_TOKEN} $A {BOS_TOKEN} $B",
        special_tokens=[(BOS_TOKEN, bos_id)],
    )

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        unk_token=UNK_TOKEN,
        # deliberately no pad_token
        padding_side="right",
        clean_up_tokenization_spaces=False,
        model_max_length=256,
    )
