#pragma once
// The little statistics that multi-seed runs need: a sample's mean, standard deviation and 95%
// confidence interval (Student t), and whether two such samples differ by more than their noise (Welch).

#include <cstddef>
#include <span>

namespace squall::reports {

// The two-sided 95% critical value of Student's t with `df` degrees of freedom (the 0.975 quantile):
// 12.706 for 1, 2.228 for 10, 1.960 in the limit. Exact table values up to 30; above, the
// Cornish-Fisher expansion, within 1e-6 of the true quantile. df = 0 gives infinity.
double student_t_975(double df);

struct sample_stats {
  std::size_t n = 0;
  double mean = 0;
  double sd = 0;  // sample standard deviation (n - 1 in the denominator); 0 when n < 2
  double ci95_low = 0;
  double ci95_high = 0;  // mean -/+ t(n-1) * sd / sqrt(n); equal to the mean when n < 2
};

sample_stats describe_sample(std::span<const double> values);

// The half-width of the 95% confidence interval of mean(b) - mean(a) under Welch's unequal-variance
// t-test, from each sample's n and standard deviation. A difference of means larger than this is
// unlikely (p < 0.05) to come from seed noise alone. 0 when both samples have no spread.
double welch_half_width_95(std::size_t n_a, double sd_a, std::size_t n_b, double sd_b);

}  // namespace squall::reports
