// Password hashing (Argon2id through libsodium), the password policy and random tokens.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gridmis::org {

enum class HashStrength {
  kInteractive,  // libsodium's interactive limits (~64 MiB, the production default)
  kMinimum,      // the smallest Argon2id limits: tests and bulk demo generation only
};

// "$argon2id$v=19$m=...": salt and parameters are stored in the string.
Result<std::string> HashPassword(std::string_view password, HashStrength strength);
bool VerifyPassword(std::string_view hash, std::string_view password);

struct PasswordPolicy {
  int min_length = 8;
  int admin_min_length = 12;
};

// At least `min_length` (admins: admin_min_length) characters, three of the four classes
// (lower, upper, digit, other), not containing the username. The error names "password".
Status CheckPasswordPolicy(std::string_view password, std::string_view username, bool is_admin,
                           const PasswordPolicy& policy);

// `bytes` random bytes as URL-safe base64 without padding.
std::string RandomToken(size_t bytes = 32);
// Hex BLAKE2b-256 of a token: what the database stores instead of the token.
std::string TokenHash(std::string_view token);

}  // namespace gridmis::org
