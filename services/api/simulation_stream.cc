#include "services/api/simulation_stream.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/civil_date.h"
#include "services/api/grpc_status.h"
#include "services/api/stream_reactor.h"

namespace tradein::api {
namespace {

using quota::ClaimPage;

class SimulationStream : public StreamCore<v1::SimulationUpdate>,
                         public std::enable_shared_from_this<SimulationStream> {
 public:
  SimulationStream(grpc::ServerWriteReactor<v1::SimulationUpdate>& reactor, quota::QuotaStore& store,
                   quota::ClaimPageRequest pages, PolicySimulation simulation, absl::Time call_deadline,
                   absl::Duration store_timeout)
      : StreamCore(reactor, store, call_deadline, store_timeout),
        pages_(std::move(pages)),
        simulation_(std::move(simulation)) {}

  // After a write (and at the start): the next page, the budgets' usage, or the end.
  void Next() {
    enum class Step { kPage, kBudgets, kNone } step = Step::kNone;
    quota::ClaimPageRequest fetch;
    std::vector<quota::BudgetRef> budgets;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (report_written_) return FinishLocked(grpc::Status::OK);
      if (!last_page_read_) {
        step = Step::kPage;
        fetch = pages_;
      } else {
        step = Step::kBudgets;
        budgets = simulation_.Budgets();
      }
    }
    const absl::Time deadline = StoreDeadline();
    if (step == Step::kPage) {
      store_.ListClaims(
          std::move(fetch), deadline,
          [self = shared_from_this()](absl::StatusOr<ClaimPage> page) { self->OnPage(std::move(page)); });
    } else {
      store_.GetBudgetUsage(std::move(budgets), absl::Now(), deadline,
                            [self = shared_from_this()](absl::StatusOr<std::vector<int64_t>> used) {
                              self->OnBudgets(std::move(used));
                            });
    }
  }

 private:
  void OnPage(absl::StatusOr<ClaimPage> page) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!page.ok()) return FinishLocked(ToGrpcStatus(page.status()));
    for (const ClaimPage::Entry& entry : page->entries) {
      if (absl::Status status = simulation_.Add(entry.record); !status.ok()) {
        return FinishLocked(ToGrpcStatus(status));
      }
    }
    last_page_read_ = !page->more || page->entries.empty();
    out_.Clear();
    v1::SimulationProgress& progress = *out_.mutable_progress();
    progress.set_claims_scanned(simulation_.claims_scanned());
    if (!page->entries.empty()) {
      pages_.cursor = page->entries.back().cursor;
      progress.set_last_day(FormatCivilDay(ChinaCivilDay(page->entries.back().record.created_at)));
    }
    StartWriteLocked(&out_);
  }

  void OnBudgets(absl::StatusOr<std::vector<int64_t>> used) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!used.ok()) return FinishLocked(ToGrpcStatus(used.status()));
    out_.Clear();
    *out_.mutable_report() = simulation_.Report(*used);
    report_written_ = true;
    StartWriteLocked(&out_);
  }

  quota::ClaimPageRequest pages_ ABSL_GUARDED_BY(mu_);
  PolicySimulation simulation_ ABSL_GUARDED_BY(mu_);
  bool last_page_read_ ABSL_GUARDED_BY(mu_) = false;
  bool report_written_ ABSL_GUARDED_BY(mu_) = false;
  v1::SimulationUpdate out_ ABSL_GUARDED_BY(mu_);  // the write in flight
};

}  // namespace

grpc::ServerWriteReactor<v1::SimulationUpdate>* StartSimulationStream(quota::QuotaStore& store,
                                                                      quota::ClaimPageRequest pages,
                                                                      PolicySimulation simulation,
                                                                      absl::Time call_deadline,
                                                                      absl::Duration store_timeout) {
  return new StreamReactor<v1::SimulationUpdate, SimulationStream>(
      store, std::move(pages), std::move(simulation), call_deadline, store_timeout);
}

}  // namespace tradein::api
