// XEP-0470 names and summaries (attachments.hpp).
#include "modules/pubsub/attachments.hpp"

namespace causerie::modules::pubsub {

bool is_service_kept_node(std::string_view node) {
  return node == kPpsSubscriptions || node.starts_with(kPpsSubscribersPrefix) || is_summary_node(node);
}

bool is_attachments_node(std::string_view node) { return node.starts_with(kAttachmentsPrefix); }
bool is_summary_node(std::string_view node) { return node.starts_with(kSummaryPrefix); }

std::optional<NodeAddress> attachments_target_address(std::string_view node) {
  if (!is_attachments_node(node)) return std::nullopt;
  auto addr = parse_node_uri(node.substr(kAttachmentsPrefix.size()));
  if (!addr || !addr->item || addr->item->empty() || addr->node.empty()) return std::nullopt;
  return addr;
}

std::string summary_node_for(std::string_view target_node) { return std::string(kSummaryPrefix) + std::string(target_node); }

void AttachmentTally::add(const std::string& person, const xml::Element& attachments) {
  if (!attachments.is("attachments", kAttachmentsNs)) return;
  if (attachments.child("noticed", kAttachmentsNs)) noticed.insert(person);
  if (const xml::Element* r = attachments.child("reactions", kAttachmentsNs))
    for (const xml::Element* one : r->children("reaction", kAttachmentsNs)) {
      std::string text = one->text();
      if (!text.empty() && text.size() <= 64) reactions[text].insert(person);
    }
}

xml::Element AttachmentTally::summary() const {
  xml::Element s("summary", std::string(kSummaryNs));
  // §"Noticed Attachment": the number of people who noticed.
  if (!noticed.empty()) s.add_child("noticed", std::string(kSummaryNs)).set_attr("count", std::to_string(noticed.size()));
  if (!reactions.empty()) {
    xml::Element& rs = s.add_child("reactions", std::string(kSummaryNs));
    for (const auto& [text, people] : reactions) {
      xml::Element& one = rs.add_child("reaction", std::string(kSummaryNs));
      if (people.size() > 1) one.set_attr("count", std::to_string(people.size()));
      one.add_text(text);
    }
  }
  return s;
}

}  // namespace causerie::modules::pubsub
