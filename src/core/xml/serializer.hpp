// Serialization of Element trees to XML text. Pure functions, any thread.
//
// Namespaces are written as default-namespace declarations (xmlns='…') wherever an element's namespace
// differs from its parent's, which is how XMPP peers expect to see them.
#pragma once

#include <string>
#include <string_view>

#include "core/xml/element.hpp"

namespace causerie::xml {

// Appends text escaped for character data (&, <, >) or, with for_attribute, for a single-quoted
// attribute value (also ' and ").
void append_escaped(std::string& out, std::string_view text, bool for_attribute = false);
std::string escape(std::string_view text, bool for_attribute = false);

// Appends `el` as it appears inside a parent whose namespace is parent_ns.
void serialize(const Element& el, std::string& out, std::string_view parent_ns);

// Appends a top-level stanza for a stream whose content namespace is jabber:client or jabber:server:
// a stanza in either of those (or in no namespace) is written without xmlns, so the same bytes fit both.
void serialize_stanza(const Element& stanza, std::string& out);

// A standalone document fragment with every namespace declared (for storage, logs and tests).
std::string to_string(const Element& el);

}  // namespace causerie::xml
