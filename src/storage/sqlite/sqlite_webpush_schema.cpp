// The "webpush" schema component: Web Push subscriptions per account (unique per endpoint), and the
// server's single VAPID key. A trigger on the core component's accounts table drops an account's
// subscriptions when it is removed.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent webpush_schema() {
  return {"webpush", {
      {1, "web push subscriptions and the VAPID key", R"sql(
CREATE TABLE webpush_subscriptions (
  account TEXT NOT NULL,
  id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  p256dh BLOB NOT NULL,
  auth BLOB NOT NULL,
  kinds INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (account, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX webpush_subscriptions_by_endpoint ON webpush_subscriptions(account, endpoint);
CREATE TABLE webpush_vapid (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  private_key BLOB NOT NULL
);
CREATE TRIGGER webpush_account_removed AFTER DELETE ON accounts BEGIN
  DELETE FROM webpush_subscriptions WHERE account = old.jid;
END;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
