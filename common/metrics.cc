#include "common/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tradein {
namespace {

constexpr double kNanosPerSecond = 1e9;

void AppendEscaped(std::string& out, absl::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::string out = absl::StrCat(value);
  return out;
}

// Adds `extra` (e.g. le="0.1") inside a rendered label set.
std::string WithLabel(const std::string& labels, absl::string_view extra) {
  if (labels.empty()) return absl::StrCat("{", extra, "}");
  return absl::StrCat(labels.substr(0, labels.size() - 1), ",", extra, "}");
}

class TextWriter final : public MetricsWriter {
 public:
  explicit TextWriter(std::map<std::string, std::string>& families) : families_(families) {}
  void Gauge(absl::string_view name, absl::string_view help, const MetricLabels& labels,
             double value) override {
    Write(name, help, "gauge", labels, value);
  }
  void Counter(absl::string_view name, absl::string_view help, const MetricLabels& labels,
               double value) override {
    Write(name, help, "counter", labels, value);
  }

 private:
  void Write(absl::string_view name, absl::string_view help, absl::string_view type,
             const MetricLabels& labels, double value) {
    std::string& text = families_[std::string(name)];
    if (text.empty()) absl::StrAppend(&text, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    absl::StrAppend(&text, name, RenderLabels(labels), " ", FormatDouble(value), "\n");
  }

  std::map<std::string, std::string>& families_;
};

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double seconds) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), seconds) - upper_bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max(seconds, 0.0) * kNanosPerSecond),
                       std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(upper_bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / kNanosPerSecond;
}

uint64_t Histogram::count() const { return count_.load(std::memory_order_relaxed); }

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", labels[i].first, "=\"");
    AppendEscaped(out, labels[i].second);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(absl::string_view name, absl::string_view help,
                                                       absl::string_view type) {
  Family& family = families_[std::string(name)];
  if (family.type.empty()) {
    family.help = std::string(help);
    family.type = std::string(type);
  }
  return family;
}

Counter& MetricsRegistry::AddCounter(absl::string_view name, absl::string_view help,
                                     const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Counter>& counter = FamilyLocked(name, help, "counter").counters[RenderLabels(labels)];
  if (counter == nullptr) counter = std::make_unique<Counter>();
  return *counter;
}

Gauge& MetricsRegistry::AddGauge(absl::string_view name, absl::string_view help, const MetricLabels& labels) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<class Gauge>& gauge = FamilyLocked(name, help, "gauge").gauges[RenderLabels(labels)];
  if (gauge == nullptr) gauge = std::make_unique<class Gauge>();
  return *gauge;
}

Histogram& MetricsRegistry::AddHistogram(absl::string_view name, absl::string_view help,
                                         const MetricLabels& labels, std::vector<double> upper_bounds) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Histogram>& histogram =
      FamilyLocked(name, help, "histogram").histograms[RenderLabels(labels)];
  if (histogram == nullptr) histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return *histogram;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter&)> collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::map<std::string, std::string> texts;  // by family name, so collectors' families sort in
  std::vector<std::function<void(MetricsWriter&)>> collectors;
  {
    absl::MutexLock lock(&mu_);
    collectors = collectors_;
    for (const auto& [name, family] : families_) {
      std::string& text = texts[name];
      absl::StrAppend(&text, "# HELP ", name, " ", family.help, "\n# TYPE ", name, " ", family.type, "\n");
      for (const auto& [labels, counter] : family.counters)
        absl::StrAppend(&text, name, labels, " ", counter->value(), "\n");
      for (const auto& [labels, gauge] : family.gauges)
        absl::StrAppend(&text, name, labels, " ", gauge->value(), "\n");
      for (const auto& [labels, histogram] : family.histograms) {
        const std::vector<uint64_t> counts = histogram->BucketCounts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const double bound = i < histogram->upper_bounds().size() ? histogram->upper_bounds()[i] : INFINITY;
          absl::StrAppend(&text, name, "_bucket",
                          WithLabel(labels, absl::StrCat("le=\"", FormatDouble(bound), "\"")), " ",
                          cumulative, "\n");
        }
        absl::StrAppend(&text, name, "_sum", labels, " ", FormatDouble(histogram->sum()), "\n");
        absl::StrAppend(&text, name, "_count", labels, " ", histogram->count(), "\n");
      }
    }
  }
  TextWriter writer(texts);
  for (const auto& collector : collectors) collector(writer);
  std::string out;
  for (const auto& [name, text] : texts) out += text;
  return out;
}

}  // namespace tradein
