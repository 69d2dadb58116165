#include "sweeps/sweep_runner.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "sim/run/simulation.hpp"

namespace squall::sweeps {

config_result<cell_scenario> load_cell(const std::string& file, const sim::scenario_inputs& inputs, const sweep_plan& plan,
                                       std::size_t cell) {
  const sweep_cell& c = plan.cells.at(cell);
  sim::scenario_inputs with_cell = inputs;
  for (const auto& text : c.sets) {
    auto parsed = documents::parse_set_override(text);
    if (!parsed) return std::move(parsed).error();
    with_cell.sets.push_back(std::move(*parsed));
  }
  auto loaded = sim::load_scenario(file, with_cell);
  if (!loaded) {
    config_error e = std::move(loaded).error();
    std::string sets;
    for (const auto& text : c.sets) sets += (sets.empty() ? "" : " ") + text;
    e.message = "sweep cell " + std::to_string(cell) + " (" + sets + "): " + e.message;
    return e;
  }
  for (std::size_t i = 0; i < loaded->configurations.size(); ++i) {
    if (loaded->configurations[i].name == c.configuration) return cell_scenario{std::move(*loaded), i};
  }
  return config_error{file, "$.policies", "sweep cell " + std::to_string(cell) + ": no configuration \"" + c.configuration + "\""};
}

std::optional<config_error> check_sweep(const std::string& file, const sim::scenario_inputs& inputs, const sweep_plan& plan,
                                        const sim::run_limits& limits, std::uint32_t jobs, const char* raise_hint) {
  if (plan.units() > units_max) {
    return config_error{{}, {}, "the sweep has " + std::to_string(plan.units()) + " units (cells x seeds), more than " +
                                    std::to_string(units_max) + "; fewer cells or seeds"};
  }
  double requests = 0;
  double memory_max = 0;
  for (std::size_t c = 0; c < plan.cells.size(); ++c) {
    auto cell = load_cell(file, inputs, plan, c);
    if (!cell) return std::move(cell).error();
    const sim::run_estimate estimate = sim::estimate_run(cell->scenario, 1);
    if (auto e = sim::check_run_limits(cell->scenario, estimate, limits, true, raise_hint)) {
      if (e->file.empty()) e->file = file;
      e->message = "sweep cell " + std::to_string(c) + ": " + e->message;
      return e;
    }
    requests += estimate.arrivals * plan.seeds;
    memory_max = std::max(memory_max, estimate.memory_bytes);
  }
  const std::string raise = raise_hint ? std::string("; or ") + raise_hint + " to raise the limit" : std::string();
  if (requests > limits.requests_max) {
    return config_error{file, {}, "the sweep would offer about " + std::to_string(static_cast<long long>(requests)) +
                                      " requests over its " + std::to_string(plan.units()) + " units, more than the limit of " +
                                      std::to_string(static_cast<long long>(limits.requests_max)) +
                                      "; fewer cells or seeds, or a shorter duration_s" + raise};
  }
  if (memory_max * jobs > limits.memory_bytes_max) {
    return config_error{file, {}, "the sweep's " + std::to_string(jobs) + " threads would hold about " +
                                      std::to_string(static_cast<long long>(memory_max * jobs / (1024 * 1024))) +
                                      " MiB at once, more than the limit; fewer --jobs" + raise};
  }
  return std::nullopt;
}

std::vector<std::optional<unit_record>> run_units(const std::string& file, const sim::scenario_inputs& inputs,
                                                  const sweep_plan& plan, const sweep_run_options& options) {
  std::vector<std::size_t> owned;
  for (std::size_t u = 0; u < plan.units(); ++u) {
    if (options.shard.owns(u)) owned.push_back(u);
  }
  std::vector<std::optional<unit_record>> records(plan.units());
  std::atomic<std::size_t> next{0};
  std::mutex lock;  // progress, and the first failure
  std::size_t done = 0;
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto stopped = [&] { return failed.load() || (options.stop && options.stop->load(std::memory_order_acquire)); };

  auto work = [&] {
    try {
      for (std::size_t i = next++; i < owned.size() && !stopped(); i = next++) {
        const std::size_t unit = owned[i];
        auto cell = load_cell(file, inputs, plan, plan.cell_of(unit));
        // check_sweep read every cell before; one that no longer reads is a file changed under the run.
        if (!cell) throw std::runtime_error("the scenario changed during the sweep: " + cell.error().describe());
        const auto result = sim::run_configuration(cell->scenario, cell->configuration, plan.seed_of(unit), {}, nullptr, options.stop);
        records[unit] = make_unit_record(unit, result);
        std::lock_guard<std::mutex> guard(lock);
        ++done;
        if (options.progress) options.progress(done, owned.size());
      }
    } catch (...) {
      std::lock_guard<std::mutex> guard(lock);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  const std::size_t threads = std::clamp<std::size_t>(options.jobs, 1, std::max<std::size_t>(1, owned.size()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return records;
}

}  // namespace squall::sweeps
