// XEP-0045 v1.35 multi-user chat: one service (e.g. conference.<host>) per configured host, with
// XEP-0249 direct invitations (routed as any message, nothing to do here), XEP-0410 self-ping and
// XEP-0421 occupant ids handled by the rooms. This file is the glue to the server: configuration
// ([modules.muc]), the service's own disco and room listing (§6.1–§6.3), session tracking (a client
// that disconnects leaves its rooms), and shutdown (status 332). Rooms: room.hpp; threading and
// lazy loading: room_registry.hpp.
//
// Thread rules: handlers run on any thread; all room state is behind the RoomRegistry; the per-session
// list of rooms is a SessionExtension touched only on the session's thread.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/module/module.hpp"
#include "core/util/published.hpp"
#include "modules/muc/room_registry.hpp"

namespace causerie::modules::muc {

class MucModule final : public Module {
 public:
  explicit MucModule(ModuleContext& ctx);
  void stop() override;

 private:
  struct Service {
    std::string host;
    ServiceSettings settings;
    std::unique_ptr<RoomRegistry> rooms;
  };
  // Rooms a session has joined (or tried to) and not left, so that its end reaches them.
  struct SessionRooms final : SessionExtension {
    std::set<std::pair<Service*, std::string>> rooms;
  };
  static constexpr size_t kMaxRoomsPerSession = 1000;

  ServiceSettings read_settings(const std::string& host, std::vector<std::string> hosts);
  void on_stanza(Service& svc, Stanza&& st, ClientSession* origin);
  void service_stanza(Service& svc, Stanza&& st);
  void list_rooms(Service& svc, const Stanza& st, IqResponder reply);
  // XEP-0433: the public rooms of a host's service, for the channel search (modules/directory.cpp).
  void list_channels(const std::string& host, std::function<void(std::vector<ChannelInfo>)> done);
  Service* service_for(std::string_view domain);
  // Starts the service of one host (at startup, and when a reload adds a host).
  void serve_host(const HostConfig& host);

  ModuleContext& ctx_;
  // The services, read by workers on every presence to a room and extended by reloads (main thread):
  // owned by `owned_` (touched only by serve_host), looked up through `services_`.
  std::vector<std::unique_ptr<Service>> owned_;
  Published<std::vector<Service*>> services_;
  size_t slot_;
  std::atomic<bool> stopping_{false};
};

}  // namespace causerie::modules::muc
