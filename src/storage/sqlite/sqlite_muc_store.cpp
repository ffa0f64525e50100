#include "storage/sqlite/sqlite_muc_store.hpp"

#include "core/util/encoding.hpp"
#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

class SqliteMucStore final : public MucStore {
 public:
  explicit SqliteMucStore(Db& db) : db_(db) {}

  std::optional<MucRoom> load_room(std::string_view jid, size_t history) override {
    MucRoom r;
    {
      auto q = db_.prepare(
          "SELECT jid, service, public, name, config, subject, subject_nick, subject_stamp FROM muc_rooms "
          "WHERE jid = ?1");
      q->bind(1, jid);
      if (!q->step()) return std::nullopt;
      r.jid = q->column_text(0);
      r.service = q->column_text(1);
      r.is_public = q->column_int(2) != 0;
      r.name = q->column_text(3);
      r.config = q->column_text(4);
      r.subject = q->column_text(5);
      r.subject_nick = q->column_text(6);
      r.subject_stamp_ms = q->column_int(7);
    }
    {
      auto q = db_.prepare("SELECT jid, affiliation, nick, reason FROM muc_affiliations WHERE room = ?1 ORDER BY jid");
      q->bind(1, jid);
      while (q->step())
        r.affiliations.push_back(MucAffiliation{q->column_text(0), q->column_text(1), q->column_text(2), q->column_text(3)});
    }
    if (history > 0) {
      auto q = db_.prepare(
          "SELECT stamp, xml FROM (SELECT id, stamp, xml FROM muc_history WHERE room = ?1 ORDER BY id DESC "
          "LIMIT ?2) ORDER BY id");
      q->bind(1, jid).bind(2, static_cast<int64_t>(history));
      while (q->step()) r.history.push_back(MucHistoryItem{q->column_int(0), q->column_text(1)});
    }
    return r;
  }

  void save_room(const MucRoom& r) override {
    auto q = db_.prepare(
        "INSERT OR REPLACE INTO muc_rooms (jid, service, public, name, config, subject, subject_nick, subject_stamp) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    q->bind(1, r.jid).bind(2, r.service).bind(3, int64_t{r.is_public}).bind(4, r.name).bind(5, r.config);
    q->bind(6, r.subject).bind(7, r.subject_nick).bind(8, r.subject_stamp_ms).run();
  }

  void remove_room(std::string_view jid) override {
    for (const char* sql : {"DELETE FROM muc_rooms WHERE jid = ?1", "DELETE FROM muc_affiliations WHERE room = ?1",
                            "DELETE FROM muc_history WHERE room = ?1"}) {
      auto q = db_.prepare(sql);
      q->bind(1, jid).run();
    }
  }

  void set_affiliation(std::string_view room, const MucAffiliation& a) override {
    auto q = db_.prepare(
        "INSERT OR REPLACE INTO muc_affiliations (room, jid, affiliation, nick, reason) VALUES (?1, ?2, ?3, ?4, ?5)");
    q->bind(1, room).bind(2, a.jid).bind(3, a.affiliation).bind(4, a.nick).bind(5, a.reason).run();
  }

  void remove_affiliation(std::string_view room, std::string_view jid) override {
    auto q = db_.prepare("DELETE FROM muc_affiliations WHERE room = ?1 AND jid = ?2");
    q->bind(1, room).bind(2, jid).run();
  }

  void append_history(std::string_view room, const MucHistoryItem& item, size_t keep) override {
    {
      auto q = db_.prepare("INSERT INTO muc_history (room, stamp, xml) VALUES (?1, ?2, ?3)");
      q->bind(1, room).bind(2, item.stamp_ms).bind(3, item.xml).run();
    }
    // Everything older than the newest `keep` goes; the (room, id) index makes both steps cheap.
    auto q = db_.prepare(
        "DELETE FROM muc_history WHERE room = ?1 AND id <= (SELECT id FROM muc_history WHERE room = ?1 "
        "ORDER BY id DESC LIMIT 1 OFFSET ?2)");
    q->bind(1, room).bind(2, static_cast<int64_t>(keep)).run();
  }

  void clear_history(std::string_view room) override {
    auto q = db_.prepare("DELETE FROM muc_history WHERE room = ?1");
    q->bind(1, room).run();
  }

  std::vector<MucListing> public_rooms(std::string_view service, std::string_view after, size_t limit) override {
    auto q = db_.prepare(
        "SELECT jid, name, config FROM muc_rooms WHERE service = ?1 AND public = 1 AND jid > ?2 ORDER BY jid LIMIT ?3");
    q->bind(1, service).bind(2, after).bind(3, static_cast<int64_t>(limit));
    std::vector<MucListing> out;
    while (q->step()) out.push_back(MucListing{q->column_text(0), q->column_text(1), q->column_text(2)});
    return out;
  }

  size_t count_public_rooms(std::string_view service) override {
    auto q = db_.prepare("SELECT COUNT(*) FROM muc_rooms WHERE service = ?1 AND public = 1");
    q->bind(1, service);
    return q->step() ? static_cast<size_t>(q->column_int(0)) : 0;
  }

  std::vector<std::string> rooms(std::string_view service) override {
    auto q = db_.prepare("SELECT jid FROM muc_rooms WHERE service = ?1 ORDER BY jid");
    q->bind(1, service);
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  std::vector<std::string> services() override {
    auto q = db_.prepare("SELECT DISTINCT service FROM muc_rooms ORDER BY service");
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  std::string service_secret(std::string_view service) override {
    {
      auto q = db_.prepare("SELECT secret FROM muc_services WHERE service = ?1");
      q->bind(1, service);
      if (q->step()) return q->column_blob(0);
    }
    std::string secret = util::random_bytes(32);
    auto q = db_.prepare("INSERT INTO muc_services (service, secret) VALUES (?1, ?2)");
    q->bind(1, service).bind_blob(2, secret).run();
    return secret;
  }

 private:
  Db& db_;
};

}  // namespace

std::unique_ptr<MucStore> make_sqlite_muc_store(Db& db) { return std::make_unique<SqliteMucStore>(db); }

}  // namespace causerie::storage::sqlite
