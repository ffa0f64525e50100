// PreviewStore: the link-preview cache (modules/previews): per URL, the preview the server built (its
// XML, as answered) and when it stops being valid. Entries are shared by every user; expired ones are
// ignored by the module and purged from time to time.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::storage {

struct CachedPreview {
  std::string xml;      // the <preview/> element as answered
  int64_t expires = 0;  // unix seconds
};

class PreviewStore {
 public:
  virtual ~PreviewStore() = default;
  virtual std::optional<CachedPreview> get(std::string_view url) = 0;
  virtual void put(std::string_view url, const CachedPreview& preview) = 0;
  // Removes entries that expired at or before `now` (unix seconds); returns how many.
  virtual size_t purge(int64_t now) = 0;
};

}  // namespace causerie::storage
