// Helpers shared by the GGUF tests: SHA-256 (to compare tensor bytes with the Python fixtures'
// hashes without a crypto dependency) and whole-file loading into a byte vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace longctx::testing_util {

// Lower-case hex SHA-256 (FIPS 180-4) of `n` bytes.
std::string sha256_hex(const uint8_t* data, size_t n);

// The bytes of a file; aborts the test binary if it cannot be read (fixtures are committed).
std::vector<uint8_t> load_bytes(const std::string& path);

}  // namespace longctx::testing_util
