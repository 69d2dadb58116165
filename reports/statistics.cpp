#include "reports/statistics.hpp"

#include <cmath>
#include <limits>

namespace squall::reports {

double student_t_975(double df) {
  // t(0.975, df) for df = 1..30, to nine decimals.
  static constexpr double table[] = {
      12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
      2.262157163,  2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
      2.109815578,  2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
      2.059538553,  2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456};
  if (!(df >= 1)) return std::numeric_limits<double>::infinity();
  if (df < 31) {
    // A fractional df (Welch) is rounded down: fewer degrees of freedom give a wider, safer interval.
    return table[static_cast<std::size_t>(df) - 1];
  }
  const double z = 1.959963984540054;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  const double g1 = (z3 + z) / 4;
  const double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
  const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
  const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
  return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}

sample_stats describe_sample(std::span<const double> values) {
  sample_stats s;
  s.n = values.size();
  if (s.n == 0) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  s.ci95_low = s.ci95_high = s.mean;
  if (s.n < 2) return s;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(squares / static_cast<double>(s.n - 1));
  const double half = student_t_975(static_cast<double>(s.n - 1)) * s.sd / std::sqrt(static_cast<double>(s.n));
  s.ci95_low = s.mean - half;
  s.ci95_high = s.mean + half;
  return s;
}

double welch_half_width_95(std::size_t n_a, double sd_a, std::size_t n_b, double sd_b) {
  if (n_a < 2 || n_b < 2) return 0;
  const double va = sd_a * sd_a / static_cast<double>(n_a);
  const double vb = sd_b * sd_b / static_cast<double>(n_b);
  const double se2 = va + vb;
  if (se2 <= 0) return 0;
  // Welch-Satterthwaite degrees of freedom.
  const double df = se2 * se2 / (va * va / static_cast<double>(n_a - 1) + vb * vb / static_cast<double>(n_b - 1));
  return student_t_975(df) * std::sqrt(se2);
}

}  // namespace squall::reports
