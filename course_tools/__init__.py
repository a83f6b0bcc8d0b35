"""The course's tooling: repo-only, never installed, never imported by a notebook.

`companion/` is what a learner imports (and what Colab installs); everything here serves the
people who build, run and test the course, from a clone of the repository:

- `layout`: where things are (the repository root, the editions, the notebooks of an edition);
- `run`: execute the notebooks headless (`make run`), the one way the project executes one;
- `build_notebooks`, `student_edition`, `build_site`, `readme_table`, `tag_device_cells`: what is
  built from notebooks/src and the executed notebooks;
- `bootstrap`, `lock`, `test_latest`, `colab_check`: the environment (`make install`, `make lock`,
  `make test-latest`, `make test-colab`);
- `devices`, `gpu_check`: what changes on a GPU (`make test-gpu`);
- `margins`: how close each greedy choice in the notebooks is to a tie (`make margins`);
- `bench`: speed and memory, and what a learner waits for (`make bench`); `tiny`: rebuild the tutorial-tiny model.

Run a module from the repository root (`python -m course_tools.run ...`; the Makefile does):
the root is then on `sys.path`, and pytest puts it there through the root conftest.py.
This file imports only the standard library: `make install` runs `course_tools.bootstrap` with
the system Python, before anything else is installed.
"""
