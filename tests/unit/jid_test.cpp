// JID preparation and validation (RFC 7622 rules, stringprep profiles of RFC 6122).
#include <gtest/gtest.h>

#include "core/jid/jid.hpp"

using causerie::Jid;
using causerie::JidError;
using causerie::domain_to_ascii;
using causerie::prep_domainpart;

namespace {

struct Good {
  std::string in, full, local, domain, resource;
};

TEST(Jid, PreparesValidAddresses) {
  std::vector<Good> cases = {
      {"juliet@example.com", "juliet@example.com", "juliet", "example.com", ""},
      {"juliet@example.com/foo", "juliet@example.com/foo", "juliet", "example.com", "foo"},
      {"juliet@example.com/foo bar", "juliet@example.com/foo bar", "juliet", "example.com", "foo bar"},
      {"juliet@example.com/foo@bar", "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar"},
      {"foo\\20bar@example.com", "foo\\20bar@example.com", "foo\\20bar", "example.com", ""},
      {"example.com", "example.com", "", "example.com", ""},
      {"example.com/foobar", "example.com/foobar", "", "example.com", "foobar"},
      {"a.example.com/b@example.net", "a.example.com/b@example.net", "", "a.example.com", "b@example.net"},
      // Case folding of localpart and domainpart, never of the resourcepart.
      {"JuLiEt@ExAmPlE.CoM/BalCony", "juliet@example.com/BalCony", "juliet", "example.com", "BalCony"},
      // Unicode: nodeprep folds Ā to ā; nameprep maps the domain.
      {"\xc4\x80lice@example.com", "\xc4\x81lice@example.com", "\xc4\x81lice", "example.com", ""},
      {"\xcf\x80@example.com/\xe2\x99\x9a", "\xcf\x80@example.com/\xe2\x99\x9a", "\xcf\x80", "example.com", "\xe2\x99\x9a"},
      {"user@b\xc3\xbc" "cher.example", "user@b\xc3\xbc" "cher.example", "user", "b\xc3\xbc" "cher.example", ""},
      // RFC 7622 §3.2: one trailing dot on the domain is dropped.
      {"juliet@example.com.", "juliet@example.com", "juliet", "example.com", ""},
      {"[::1]", "[::1]", "", "[::1]", ""},
      {"user@127.0.0.1/r", "user@127.0.0.1/r", "user", "127.0.0.1", "r"},
  };
  for (const auto& c : cases) {
    auto j = Jid::parse(c.in);
    ASSERT_TRUE(j) << c.in << ": " << causerie::to_string(j.error());
    EXPECT_EQ(j->str(), c.full) << c.in;
    EXPECT_EQ(j->localpart(), c.local) << c.in;
    EXPECT_EQ(j->domainpart(), c.domain) << c.in;
    EXPECT_EQ(j->resourcepart(), c.resource) << c.in;
    EXPECT_EQ(j->is_bare(), c.resource.empty()) << c.in;
  }
}

TEST(Jid, RefusesInvalidAddresses) {
  std::vector<std::pair<std::string, JidError>> cases = {
      {"", JidError::kEmpty},
      {"@example.com", JidError::kBadLocalpart},
      {"juliet@", JidError::kBadDomainpart},
      {"juliet@example.com/", JidError::kBadResourcepart},
      {"/foobar", JidError::kBadDomainpart},
      {"\"juliet\"@example.com", JidError::kBadLocalpart},
      {"jul iet@example.com", JidError::kBadLocalpart},
      {"jul<iet@example.com", JidError::kBadLocalpart},
      {"juliet@exa mple.com", JidError::kBadDomainpart},
      {"juliet@exa..mple.com", JidError::kBadDomainpart},
      {"juliet@-example.com", JidError::kBadDomainpart},
      {"juliet@example.com/foo\x01" "bar", JidError::kBadResourcepart},
      {"juliet@[::1", JidError::kBadDomainpart},
      {std::string(1024, 'a') + "@example.com", JidError::kTooLong},
      {"juliet@example.com/" + std::string(1024, 'r'), JidError::kTooLong},
      // Prohibited by nodeprep (RFC 3454 C.x): U+3000 ideographic space in the localpart.
      {"a\xe3\x80\x80" "b@example.com", JidError::kBadLocalpart},
      {"\xff\xfe@example.com", JidError::kBadLocalpart},
  };
  for (const auto& [in, err] : cases) {
    auto j = Jid::parse(in);
    ASSERT_FALSE(j) << in.substr(0, 60) << " parsed as " << (j ? j->str() : "");
    EXPECT_EQ(j.error(), err) << in.substr(0, 60);
  }
}

TEST(Jid, BareDomainAndResource) {
  Jid j = *Jid::parse("Romeo@Example.NET/orchard");
  EXPECT_EQ(j.bare().str(), "romeo@example.net");
  EXPECT_EQ(j.domain().str(), "example.net");
  EXPECT_EQ(j.bare_view(), "romeo@example.net");
  EXPECT_EQ(j.with_resource("garden")->str(), "romeo@example.net/garden");
  EXPECT_FALSE(j.with_resource(std::string("bad\x02", 4)));
  EXPECT_EQ(*Jid::parse("romeo@example.net/orchard"), j);
  EXPECT_NE(j.bare(), j);
}

TEST(Jid, FromPartsPreparesEachPart) {
  auto j = Jid::from_parts("ALICE", "LOCALHOST", "Phone");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->str(), "alice@localhost/Phone");
  EXPECT_FALSE(Jid::from_parts("a@b", "localhost"));
}

TEST(Jid, DomainToAsciiGivesALabels) {
  EXPECT_EQ(domain_to_ascii("Example.ORG").value(), "example.org");
  auto prepared = prep_domainpart("Bücher.example");
  ASSERT_TRUE(prepared);
  EXPECT_EQ(domain_to_ascii(*prepared).value(), "xn--bcher-kva.example");
  EXPECT_FALSE(domain_to_ascii(""));
}

}  // namespace
