# The two commands of the README: `make run` and `make test`.
GO      ?= go
BIN     := bin/switchboard
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build vet fmt-check fuzz

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/switchboard

# Runs Switchboard. With SWITCHBOARD_DATABASE_URL set it migrates that
# database and serves; without, it starts a local PostgreSQL in ./.data,
# creates a demo company the first time and prints its API key.
run: build
	@scripts/ensure-postgres.sh
	@scripts/ensure-audio-tools.sh
	@if [ -n "$$SWITCHBOARD_DATABASE_URL" ]; then \
		$(BIN) migrate && exec $(BIN) serve; \
	else \
		exec $(BIN) dev --data .data; \
	fi

test: vet fmt-check
	@scripts/ensure-postgres.sh
	@scripts/ensure-audio-tools.sh
	@scripts/ensure-sipp.sh
	@scripts/ensure-pbx.sh
	@scripts/ensure-prometheus.sh
	@scripts/ensure-chromium.sh
	@scripts/ensure-axe.sh
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Runs every fuzz target for a while (FUZZTIME each); `make test` runs their
# seed corpora only.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzNormalize$$' -fuzztime=$(FUZZTIME) ./phone
	$(GO) test -run='^$$' -fuzz='^FuzzParseClock$$' -fuzztime=$(FUZZTIME) ./dialplan
	$(GO) test -run='^$$' -fuzz='^FuzzWeeklyHours$$' -fuzztime=$(FUZZTIME) ./dialplan
	$(GO) test -run='^$$' -fuzz='^FuzzNumberConfig$$' -fuzztime=$(FUZZTIME) ./dialplan
	$(GO) test -run='^$$' -fuzz='^FuzzUserConfig$$' -fuzztime=$(FUZZTIME) ./dialplan
	$(GO) test -run='^$$' -fuzz='^FuzzDestination$$' -fuzztime=$(FUZZTIME) ./dialplan
	$(GO) test -run='^$$' -fuzz='^FuzzSniff$$' -fuzztime=$(FUZZTIME) ./prompts
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/wav
	$(GO) test -run='^$$' -fuzz='^FuzzVoice$$' -fuzztime=$(FUZZTIME) ./internal/wav
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./events
	$(GO) test -run='^$$' -fuzz='^FuzzParseCursor$$' -fuzztime=$(FUZZTIME) ./events
	$(GO) test -run='^$$' -fuzz='^FuzzCheckURL$$' -fuzztime=$(FUZZTIME) ./webhook
	$(GO) test -run='^$$' -fuzz='^FuzzParseNets$$' -fuzztime=$(FUZZTIME) ./webhook
	$(GO) test -run='^$$' -fuzz='^FuzzReadUpload$$' -fuzztime=$(FUZZTIME) ./api
	$(GO) test -run='^$$' -fuzz='^FuzzStatsQuery$$' -fuzztime=$(FUZZTIME) ./api
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./internal/signedurl
	$(GO) test -run='^$$' -fuzz='^FuzzReadFrame$$' -fuzztime=$(FUZZTIME) ./esl
	$(GO) test -run='^$$' -fuzz='^FuzzDispatch$$' -fuzztime=$(FUZZTIME) ./esl
