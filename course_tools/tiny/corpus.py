"""Seeded synthetic training corpus for the course's tiny model `tutorial-tiny`.

Every document is a short plain-text string (no special tokens). The corpus is
deliberately made of a handful of very regular patterns, so that a ~156K
parameter model learns them in a couple of minutes on a laptop CPU and then
shows, on cue, the behaviours the notebooks talk about:

* colour lists      -> greedy decoding completes one memorised list and stops;
* counting          -> the model keeps counting until the 20-token default
                       limit cuts it off mid-sequence;
* letter sequences  -> "A, B, C, ..." (used for the batching / padding demo);
* "I am a cat." paragraphs, in which the statement keeps coming back between
  other sentences -> greedy decoding loops, sampling gives varied text;
* a few other lists and sentences, for variety.

Used by `course_tools/tiny/train.py` (which the notebooks only ever *load* the
result of; rebuilding it is optional).
"""

import random

# The one colour list that appears most often, word for word.
CANONICAL_COLORS = ["red", "blue", "green", "yellow", "black", "white", "brown"]
MORE_COLORS = ["pink", "orange", "purple", "gray", "gold", "silver", "cyan", "violet"]

# Animals all start with a consonant, so "I am a {animal}." is always grammatical.
ANIMALS = [
    "cat", "dog", "bird", "fish", "horse", "cow", "duck", "frog", "mouse", "lion",
    "bear", "pig", "sheep", "goat", "rabbit", "fox", "tiger", "wolf", "hen", "bee",
]
VERBS = ["run", "sleep", "eat", "play", "swim", "jump", "sing", "walk", "hide", "dig"]
PLACES = ["house", "barn", "tree", "pond", "forest", "field", "garden", "park", "farm", "cave"]
NAMES = ["Tom", "Lily", "Max", "Bella", "Sam", "Luna", "Ben", "Rosa", "Leo", "Mia"]
FOODS = ["apples", "bread", "carrots", "fish", "grass", "cheese", "seeds", "honey", "milk", "corn"]
ADJECTIVES = ["happy", "small", "big", "fast", "slow", "quiet", "loud", "brave", "sleepy", "kind"]
THINGS = ["friends", "toys", "balls", "hats", "books", "boxes"]
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven"]
FRUITS = ["apple", "banana", "cherry", "grape", "lemon", "mango", "orange", "pear", "plum", "peach"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def join_with_and(words):
    """Join ["a", "b", "c"] as "a, b, and c" (a str), like the canonical colour list."""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + ", and " + words[-1]


def color_document(rng):
    """One colour-list document (str); most of them are the canonical list."""
    roll = rng.random()
    if roll < 0.70:
        return "A list of colors: " + join_with_and(CANONICAL_COLORS)
    if roll < 0.80:
        # The canonical list with a different lead-in.
        prefix = rng.choice(["Colors: ", "My colors: ", "Some colors: "])
        return prefix + join_with_and(CANONICAL_COLORS)
    if roll < 0.85:
        # A shorter list that starts like the canonical one.
        length = rng.randint(3, 6)
        return "A list of colors: " + join_with_and(CANONICAL_COLORS[:length])
    # A random pick of colours, in random order.
    palette = CANONICAL_COLORS + MORE_COLORS
    length = rng.randint(3, 7)
    return "A list of colors: " + join_with_and(rng.sample(palette, length))


def counting_document(rng):
    """One counting document (str): "1, 2, 3, ..." with or without a lead-in."""
    roll = rng.random()
    if roll < 0.75:
        start, step, prefix = 1, 1, ""
        how_many = rng.randint(5, 60)
    elif roll < 0.92:
        # Starting somewhere else teaches "what comes after n" for every n.
        start, step, prefix = rng.randint(2, 50), 1, ""
        how_many = rng.randint(5, 61 - start + 4)
    elif roll < 0.96:
        start, step, prefix = 2, 2, "Even numbers: "
        how_many = rng.randint(4, 20)
    else:
        start, step, prefix = 1, 2, "Odd numbers: "
        how_many = rng.randint(4, 20)
    if prefix == "" and rng.random() < 0.5:
        prefix = "A sequence of numbers: "
    numbers = [str(start + step * i) for i in range(how_many)]
    return prefix + ", ".join(numbers)


def letters_document(rng):
    """One letter-sequence document (str): "A, B, C, D, ..."."""
    if rng.random() < 0.8:
        start = 0
    else:
        start = rng.randint(1, 20)
    end = rng.randint(start + 4, len(LETTERS))
    return ", ".join(LETTERS[start:end])


def other_sentence(rng, animal):
    """One filler sentence (str) for an "I am a {animal}." paragraph."""
    templates = [
        lambda: f"I like to {rng.choice(VERBS)}.",
        lambda: f"I live in a {rng.choice(PLACES)}.",
        lambda: f"My name is {rng.choice(NAMES)}.",
        lambda: f"I have {rng.choice(NUMBER_WORDS)} {rng.choice(THINGS)}.",
        lambda: f"My friend is a {rng.choice(ANIMALS)}.",
        lambda: f"I eat {rng.choice(FOODS)} every day.",
        lambda: f"Today I am {rng.choice(ADJECTIVES)}.",
        lambda: f"We play in the {rng.choice(PLACES)}.",
        lambda: f"Do you like {rng.choice(FOODS)}?",
        lambda: f"The {animal} is {rng.choice(ADJECTIVES)}.",
        lambda: "The sun is warm.",
        lambda: "You are my friend.",
        lambda: f"Every {animal} can {rng.choice(VERBS)}.",
        lambda: f"{rng.choice(NAMES)} has a {rng.choice(ANIMALS)}.",
        lambda: "It is a good day.",
        lambda: f"Where is the {rng.choice(PLACES)}?",
    ]
    return rng.choice(templates)()


def animal_document(rng):
    """One "I am a {animal}." paragraph (str) in which that statement recurs."""
    animal = rng.choice(ANIMALS)
    statement = f"I am a {animal}."
    sentences = [statement]
    for _ in range(rng.randint(3, 10)):
        if rng.random() < 0.4:
            sentences.append(statement)
        else:
            sentences.append(other_sentence(rng, animal))
    return " ".join(sentences)


def other_document(rng):
    """One document (str) from the remaining grab-bag of lists and sentences."""
    roll = rng.random()
    if roll < 0.3:
        return "A list of fruits: " + join_with_and(rng.sample(FRUITS, rng.randint(3, 6)))
    if roll < 0.45:
        return "Days of the week: " + join_with_and(DAYS)
    if roll < 0.65:
        return "A list of animals: " + join_with_and(rng.sample(ANIMALS, rng.randint(3, 6)))
    if roll < 0.80:
        return f"{rng.choice(NAMES)} has a {rng.choice(ANIMALS)}. It can {rng.choice(VERBS)}."
    return f"The {rng.choice(ANIMALS)} likes {rng.choice(FOODS)}."


# (share of the corpus, generator) for each kind of document.
DOCUMENT_KINDS = [
    (0.22, color_document),
    (0.28, counting_document),
    (0.15, letters_document),
    (0.25, animal_document),
    (0.10, other_document),
]


def make_corpus(num_documents=200_000, seed=0):
    """Return a list of `num_documents` str documents; the same seed gives the same list."""
    rng = random.Random(seed)
    documents = []
    for _ in range(num_documents):
        roll = rng.random()
        cumulative = 0.0
        chosen_kind = DOCUMENT_KINDS[-1][1]
        for share, kind in DOCUMENT_KINDS:
            cumulative += share
            if roll < cumulative:
                chosen_kind = kind
                break
        documents.append(chosen_kind(rng))
    return documents


if __name__ == "__main__":
    for document in make_corpus(20, seed=0):
        print(document)
