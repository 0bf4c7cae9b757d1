#include "org/password.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

namespace gridmis::org {

namespace {
void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}
}  // namespace

Result<std::string> HashPassword(std::string_view password, HashStrength strength) {
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  unsigned long long ops = strength == HashStrength::kInteractive
                               ? crypto_pwhash_OPSLIMIT_INTERACTIVE
                               : crypto_pwhash_OPSLIMIT_MIN;
  size_t mem = strength == HashStrength::kInteractive ? crypto_pwhash_MEMLIMIT_INTERACTIVE
                                                      : crypto_pwhash_MEMLIMIT_MIN;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  InitSodium();
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

Status CheckPasswordPolicy(std::string_view password, std::string_view username, bool is_admin,
                           const PasswordPolicy& policy) {
  size_t min = static_cast<size_t>(is_admin ? policy.admin_min_length : policy.min_length);
  if (password.size() < min) {
    return InvalidArgument("password must be at least " + std::to_string(min) + " characters" +
                               (is_admin ? " for administrators" : ""),
                           "password");
  }
  if (password.size() > 128) {
    return InvalidArgument("password must be at most 128 characters", "password");
  }
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (unsigned char c : password) {
    if (std::islower(c))
      lower = 1;
    else if (std::isupper(c))
      upper = 1;
    else if (std::isdigit(c))
      digit = 1;
    else
      other = 1;
  }
  if (lower + upper + digit + other < 3) {
    return InvalidArgument(
        "password must mix at least three of: lower-case letters, upper-case letters, digits, "
        "other characters",
        "password");
  }
  if (!username.empty() && Lower(password).find(Lower(username)) != std::string::npos) {
    return InvalidArgument("password must not contain the username", "password");
  }
  return Status::Ok();
}

std::string RandomToken(size_t bytes) {
  InitSodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string TokenHash(std::string_view token) {
  InitSodium();
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  for (int i = 0; i < 32; ++i) {
    s[2 * i] = kHex[h[i] >> 4];
    s[2 * i + 1] = kHex[h[i] & 15];
  }
  return s;
}

}  // namespace gridmis::org
