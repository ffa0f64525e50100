# Causerie: the two set-up commands are `make run` and `make test` (see README.md).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CONFIG ?=
PREFIX ?= /usr/local

.PHONY: all deps build run test unit integration bench install clean

all: build

deps:
	@bash scripts/deps.sh test

$(BUILD_DIR)/build.ninja:
	@bash scripts/deps.sh build
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/build.ninja
	@bash scripts/deps.sh build
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the server on its embedded default (virtual host localhost, SQLite in ./data, self-signed
# certificate), or on CONFIG=path/to/causerie.toml.
run: build
	./$(BUILD_DIR)/causerie run $(if $(CONFIG),--config $(CONFIG),)

test: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

integration: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

bench: build
	@bash scripts/deps.sh bench
	bash bench/run.sh

# Installs under $(PREFIX) (bin/causerie, lib/systemd/system/causerie.service, etc/causerie/causerie.toml
# unless one exists, share/doc/causerie/); DESTDIR=dir stages the tree there (packaging). docs/ADMIN.md.
install: build
	cmake -S . -B $(BUILD_DIR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --install $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
