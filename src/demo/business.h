// The demo utility's business history: what the base demo (demo.h) lacks for meter to cash.
//
// BuildBusinessHistory runs after BuildDemo, through the real services (reading, billing,
// accounts) with a clock set back to the past, so that everything it creates went through the
// same rules, audit and ledger as a clerk's work:
//   - meters get their register digit count (6), large-industry points their billing
//     parameters (declared demand, transformer loss for low-side metering);
//   - reading segments (抄表段) per supply station, with the station's meter reader;
//   - daily frozen registers for the reading days of the last three months (a deterministic
//     consumption model per customer class, with seasonal factors for 乌兰察布: winter heating,
//     summer irrigation), a few zero-use, spike and missing reads in the latest month;
//   - reading plans for those months, collected from the frozen registers (the review rules
//     flag the anomalies into the review queue);
//   - bill runs for the two older months, reviewed and issued (receivables on the ledger);
//   - payments: most of the oldest month's bills and half of the next, at the counter and
//     through the bank channel (some after the due date, with late fees); a bank collection
//     channel for the `paychannel` user; prepaid accounts for customers who pay in advance.
// The latest month is read but not billed: the console's bill run launcher has work to do.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"

namespace gridmis::demo {

struct BusinessOptions {
  uint64_t seed = 20261128;
  // The real now; the history is built with a clock set before it.
  int64_t now_us = 0;
  std::function<void(std::string_view stage, int64_t done, int64_t total)> progress;
};

struct BusinessSummary {
  int64_t segments = 0;
  int64_t frozen_rows = 0;
  int64_t reads = 0;
  int64_t flagged_reads = 0;
  int64_t bills = 0;
  int64_t bills_issued = 0;
  int64_t bill_exceptions = 0;
  int64_t payments = 0;
  int64_t prepaid_accounts = 0;
  std::string billed_periods;  // "2026-08, 2026-09"
  std::string open_period;     // read, not billed: "2026-10"
};

// Needs a database BuildDemo filled (and nothing else of the kind yet).
Result<BusinessSummary> BuildBusinessHistory(const Config& config, const BusinessOptions& options);

std::string FormatBusinessSummary(const BusinessSummary& s);

}  // namespace gridmis::demo
