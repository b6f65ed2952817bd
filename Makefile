# Two commands from a fresh clone: `make run` and `make test`. Both are idempotent:
# each step is a file target, so a second run only redoes what is out of date.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FC := $(BIN)/factcheck
INSTALLED := $(VENV)/.installed
MODEL := models/e5-small-nl/conversion.json
ADAPTED := models/e5-small-nl-adapted/adaptation.json
ONNX := models/e5-small-nl-adapted.onnx/export.json
NLI := models/nli-e5-small/nli.json
NLI_ONNX := models/nli-e5-small.onnx/export.json
INDEX := build/index/manifest.json
VERIFIER := build/verifier.skops
CORPUS := $(wildcard corpus/*.txt corpus/*.md corpus/*.pdf) corpus/metadata.yaml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run serve test bench eval clean

setup: $(VERIFIER)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(MODEL): $(INSTALLED)
	$(FC) prepare-model

# Adapting the encoder to the corpus takes about 6 minutes on 2 cores, once.
$(ADAPTED): $(MODEL) $(CORPUS) $(wildcard corpus/pairs/*.csv) configs/default.yaml pipeline/adapt.py pipeline/chunk.py pipeline/ingest.py
	$(FC) adapt

# The encoder and the cross-encoder on ONNX Runtime, for a short start of `factcheck check` without torch
# (each kept only if it matches torch). One command exports whichever is out of date.
$(ONNX): $(ADAPTED) pipeline/onnx_encoder.py
	$(FC) export-onnx

$(NLI_ONNX): $(NLI) pipeline/onnx_encoder.py pipeline/nli.py
	$(FC) export-onnx

$(INDEX): $(ADAPTED) $(CORPUS) $(wildcard corpus/pairs/*.csv) configs/default.yaml $(wildcard pipeline/*.py pipeline/lang/*.py)
	$(FC) index

# The NLI cross-encoder on the written pairs and SICK-NL: about 9 minutes on 2 cores that compute bfloat16
# natively (nli.training_precision: auto), 11-13 elsewhere; once. The SICK-NL path is
# nli.sick_nl's default; `factcheck train-nli` itself compares data fingerprints and says "up to date".
SICK_NL := $(wildcard ../shared/data/sick-nl/SICK_NL.txt)
$(NLI): $(MODEL) $(wildcard corpus/pairs/*.csv) $(SICK_NL) configs/default.yaml pipeline/nli.py
	$(FC) train-nli
	if [ -f $@ ]; then touch $@; fi

$(VERIFIER): $(INDEX) $(ONNX) $(NLI_ONNX) configs/default.yaml corpus/labelled/claims.csv $(wildcard corpus/pairs/*.csv) $(wildcard corpus/posts/*.csv) $(wildcard pipeline/*.py pipeline/lang/*.py)
	$(FC) train

run: setup
	$(FC) batch examples/posts.csv -o out/posts_checked.csv --column post --table

# The moderator workbench on http://127.0.0.1:8000/ (README: "Moderator workbench").
serve: setup
	$(FC) serve

test: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/retrieval.py --split test
	$(BIN)/python bench/throughput.py --profile
	$(BIN)/python bench/sick_nl.py
	$(BIN)/python bench/encoders.py
	$(BIN)/python bench/cv.py

eval: setup
	$(FC) evaluate corpus/labelled/claims.csv --split test --out out/eval

clean:
	rm -rf build out
