// HTTP routes of the accounts module: the ledger (trial balance, journal, customer statement),
// receivables and late-fee waivers, counter payments with receipts and reversal, the channel
// collection API (代收) for banks calling with an API token, direct-debit files (代扣),
// reconciliation (对账) and closing a channel's day, arrears aging and lists, reminders (催缴),
// prepaid accounts, purchases, daily deductions and control requests.
//
// Money in bodies and replies is a decimal string in yuan ("123.45"); dates are "YYYY-MM-DD".
// Bank files are uploaded either as the raw body (Content-Type text/plain or
// application/octet-stream, in the channel's encoding) or as JSON {"content": "..."} (UTF-8
// text) or {"content_base64": "..."} (bytes in the channel's encoding). A rejected file answers
// 400 with the error body plus "bad_lines": [{"line": 3, "reason": "..."}] (line 0: the file as a
// whole); nothing is posted.
#pragma once

#include "accounts/accounts.h"
#include "accounts/channel.h"
#include "accounts/prepaid.h"
#include "http/router.h"

namespace gridmis::accounts {

// Registers the routes and their OpenAPI schemas. The services must outlive the router.
void AddRoutes(http::Router& router, AccountsService& accounts, ChannelService& channels,
               PrepaidService& prepaid);

}  // namespace gridmis::accounts
