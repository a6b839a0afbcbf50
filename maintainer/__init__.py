"""The maintainer's machinery, apart from the helper that notebooks import (and not installed with it).

    layout    where the notebooks, executed notebooks, working folders and reports live
    run       `make run`: every notebook on every backend with papermill, and a report
    matrix    `make test`: unit tests, hygiene, nbval per backend, a second run, the results check
    hygiene   the notebook checks and cleaner, and the chapter READMEs' parameter tables
    bench     `make bench`: ms per training step per backend, next to native PyTorch
"""
