// -----------------------------------------------------------------------------
// File: arena_allocator.h
// -----------------------------------------------------------------------------
//
// ArenaMessageAllocator gives each call of a unary callback method one protobuf Arena for its request and its
// response: parsing the request and building the reply take memory from one block that goes back at once
// when the call ends, instead of a malloc and a free per string and sub-message (malloc and free were the top
// exclusive cost of a Quote under callgrind; docs/performance.md). The first 8 KiB live inside the holder
// itself, so a typical call makes one allocation for its messages.
//
// Install it in a service's constructor (the service owns it and outlives the server):
//   SetMessageAllocatorFor_Quote(&quote_allocator_);
// Handlers must not keep pointers into the request or response after the call ends (they never may).
//
// Thread safety: AllocateMessages may be called concurrently.
#ifndef TRADEIN_SERVICES_API_ARENA_ALLOCATOR_H_
#define TRADEIN_SERVICES_API_ARENA_ALLOCATOR_H_

#include <cstddef>

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace tradein::api {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  static constexpr size_t kInlineBytes = 8192;

  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options(inline_block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kInlineBytes;
      return options;
    }

    alignas(std::max_align_t) char inline_block_[kInlineBytes];
    google::protobuf::Arena arena_;  // after inline_block_: built on it, destroyed before it
  };
};

}  // namespace tradein::api

#endif  // TRADEIN_SERVICES_API_ARENA_ALLOCATOR_H_
