"""Training the course's tiny model `tutorial-tiny` (`python -m course_tools.tiny.train`).

`corpus` writes the synthetic stories, `tokenizer` trains the BPE tokenizer on them, `train`
trains the model and writes it into the package (companion/tiny/tutorial-tiny/), where the
notebooks load it from. Learners never run this: they get the shipped result.
"""
