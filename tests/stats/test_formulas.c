/*
 * test_formulas.c — the statistics of SPEC §5 against numbers worked out
 * independently of GSL: every test vector of SPEC §5 to four decimals, and
 * further cases computed by hand or with a short pure-Python script (no
 * statistics library): Poisson intervals by bisection on the Poisson CDF,
 * keyness from the formulas, the OLS slope and its p from the closed-form t
 * distribution with 3 degrees of freedom, Zipf and BH by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "stats.h"

#define NEAR(x, want) assert_true(fabs((x) - (want)) < 5e-5)
#define NEAR_REL(x, want) assert_true(fabs((x) - (want)) <= 1e-6 * fabs(want))

static void test_poisson_ci(void **state)
{
    (void)state;
    double lo, hi;
    /* k = 0: lower 0, upper chi2inv(0.975; 2)/2 = -ln(0.025) = 3.688879 */
    tifa_poisson_ci(0, 1e4, &lo, &hi);
    assert_true(lo == 0.0);
    NEAR(hi, 3.6889);
    tifa_poisson_ci(0, 2e4, &lo, &hi);
    NEAR(hi, 3.6888794541 / 2);
    /* k = 1: lower -ln(0.975) = 0.025318; upper solves e^-x (1+x) = 0.025 */
    tifa_poisson_ci(1, 1e4, &lo, &hi);
    NEAR(lo, 0.0253);
    NEAR(hi, 5.5716);
    /* k = 5 in 100,000 characters: (1.623486, 11.668332) per 1e5 -> x 0.1 */
    tifa_poisson_ci(5, 1e5, &lo, &hi);
    NEAR(lo, 0.16235);
    NEAR(hi, 1.16683);
    /* k = 150 */
    tifa_poisson_ci(150, 1e4, &lo, &hi);
    NEAR(lo, 126.9562);
    NEAR(hi, 176.0172);
    /* size 0: undefined */
    tifa_poisson_ci(3, 0, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

static void test_dispersion_spec(void **state)
{
    (void)state;
    /* SPEC §5: f = (3,0,10,2), sizes (1000,500,4000,1500) */
    double f[] = {3, 0, 10, 2}, s[] = {1000, 500, 4000, 1500};
    tifa_dispersion d;
    tifa_dispersion_compute(f, s, 4, &d);
    assert_int_equal(d.range, 3);
    NEAR(d.dp, 0.1524);
    NEAR(d.dp_norm, 0.1641);
    NEAR(d.juilland_d, 0.6090);
}

static void test_dispersion_edges(void **state)
{
    (void)state;
    tifa_dispersion d;
    /* perfectly even: DP 0, D 1 */
    double f1[] = {1, 1}, s1[] = {100, 100};
    tifa_dispersion_compute(f1, s1, 2, &d);
    NEAR(d.dp, 0.0);
    NEAR(d.dp_norm, 0.0);
    NEAR(d.juilland_d, 1.0);
    /* all in one of three parts: DP = 1/2 (|1-.25| + .25 + .5) = 0.75,
     * DPnorm = 0.75 / (1 - 0.25) = 1, D = 1 - sqrt(2)/sqrt(2) = 0 */
    double f2[] = {4, 0, 0}, s2[] = {10, 10, 20};
    tifa_dispersion_compute(f2, s2, 3, &d);
    assert_int_equal(d.range, 1);
    NEAR(d.dp, 0.75);
    NEAR(d.dp_norm, 1.0);
    NEAR(d.juilland_d, 0.0);
    /* no occurrences: undefined */
    double f3[] = {0, 0}, s3[] = {10, 10};
    tifa_dispersion_compute(f3, s3, 2, &d);
    assert_int_equal(d.range, 0);
    assert_true(isnan(d.dp) && isnan(d.dp_norm) && isnan(d.juilland_d));
    /* a corpus of one document: DP = 0 by the formula, DPnorm and D divide
     * by zero and are NaN */
    double f4[] = {7}, s4[] = {1000};
    tifa_dispersion_compute(f4, s4, 1, &d);
    assert_int_equal(d.range, 1);
    NEAR(d.dp, 0.0);
    assert_true(isnan(d.dp_norm) && isnan(d.juilland_d));
    /* a part of size 0 is ignored entirely */
    double f5[] = {1, 0, 1}, s5[] = {100, 0, 100};
    tifa_dispersion_compute(f5, s5, 3, &d);
    NEAR(d.dp, 0.0);
    NEAR(d.juilland_d, 1.0);
}

static void test_keyness_spec(void **state)
{
    (void)state;
    tifa_keyness k;
    tifa_keyness_compute(150, 50, 1e6, 2e6, &k);
    NEAR(k.g2, 145.1961);
    NEAR(k.g2_4term, 145.2066);
    NEAR(k.chi2, 156.2604);
    NEAR(k.chi2_yates, 154.3909);
    NEAR(k.log_ratio, 2.5850);
    NEAR(k.bic, 130.2820);
    NEAR(k.pct_diff, 500.0); /* (150/1e6 - 50/2e6) / (50/2e6) */
    /* p = erfc(sqrt(G2/2)) = 1.945719e-33 */
    NEAR_REL(k.p, 1.94571921e-33);
    tifa_keyness_compute(10, 0, 1e5, 1e6, &k);
    NEAR(k.g2, 47.9579);
    NEAR(k.log_ratio, 7.6439);
    assert_true(isnan(k.pct_diff)); /* b = 0 */
    NEAR(k.bic, 47.95790546 - log(1.1e6));
    NEAR_REL(k.p, 4.35468732e-12);
}

static void test_keyness_more(void **state)
{
    (void)state;
    tifa_keyness k;
    /* zero in the target: LR uses 0.5: log2((0.5/5e4)/(7/1e5)) = -2.807355 */
    tifa_keyness_compute(0, 7, 5e4, 1e5, &k);
    NEAR(k.g2, 5.6765);
    NEAR(k.g2_4term, 5.6767);
    NEAR(k.chi2, 3.5002);
    NEAR(k.chi2_yates, 2.1608);
    NEAR(k.log_ratio, -2.8074);
    NEAR(k.pct_diff, -100.0);
    NEAR(k.p, 0.017194);
    /* equal relative frequencies: everything 0, p 1 */
    tifa_keyness_compute(5, 5, 1000, 1000, &k);
    NEAR(k.g2, 0.0);
    NEAR(k.chi2, 0.0);
    NEAR(k.chi2_yates, 0.0); /* |O-E| < 0.5: the correction stops at 0 */
    NEAR(k.log_ratio, 0.0);
    NEAR(k.pct_diff, 0.0);
    NEAR(k.p, 1.0);
    NEAR(k.bic, -log(2000.0));
    /* both zero: G2 0, log ratio undefined */
    tifa_keyness_compute(0, 0, 1000, 1000, &k);
    NEAR(k.g2, 0.0);
    assert_true(isnan(k.log_ratio));
    /* empty corpus: undefined */
    tifa_keyness_compute(1, 1, 0, 1000, &k);
    assert_true(isnan(k.g2));
}

static void test_bh(void **state)
{
    (void)state;
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    assert_int_equal(tifa_bh_adjust(p, 4, adj), TIFA_OK);
    /* by hand: sorted .005 .01 .03 .04 -> .02 .02 .04 .04 */
    NEAR(adj[0], 0.02);
    NEAR(adj[1], 0.04);
    NEAR(adj[2], 0.04);
    NEAR(adj[3], 0.02);
    double q[] = {0.5, NAN, 0.9}, qa[3];
    assert_int_equal(tifa_bh_adjust(q, 3, qa), TIFA_OK);
    NEAR(qa[0], 0.9); /* m = 2: min(0.5*2/1, 0.9) */
    assert_true(isnan(qa[1]));
    NEAR(qa[2], 0.9);
    double one[] = {0.8}, oa[1];
    tifa_bh_adjust(one, 1, oa);
    NEAR(oa[0], 0.8);
}

static void test_trend_fit(void **state)
{
    (void)state;
    double x[] = {2000, 2001, 2002, 2003, 2004};
    double y[] = {1.0, 1.5, 1.7, 2.6, 2.9};
    tifa_trend_fit fit;
    assert_int_equal(tifa_trend_fit_compute(x, y, 5, &fit), TIFA_OK);
    /* Sxy/Sxx = 4.9/10; se = sqrt(RSS/3/Sxx); p from the t(3) CDF */
    NEAR(fit.slope, 0.49);
    NEAR(fit.intercept, -979.04);
    NEAR(fit.slope_se, 0.055076);
    NEAR(fit.p, 0.0029947);
    assert_int_equal(fit.n, 5);
    /* two points: slope only */
    assert_int_equal(tifa_trend_fit_compute(x, y, 2, &fit), TIFA_OK);
    NEAR(fit.slope, 0.5);
    assert_true(isnan(fit.slope_se) && isnan(fit.p));
    /* one point: nothing */
    assert_int_equal(tifa_trend_fit_compute(x, y, 1, &fit), TIFA_EEMPTY);
    assert_true(isnan(fit.slope));
}

static void test_zipf(void **state)
{
    (void)state;
    /* 100/r rounded: slope of log10 c on log10 r by hand = -1.000878 */
    double c[] = {100, 50, 33, 25, 20};
    NEAR(tifa_zipf_slope(c, 5), -1.000878);
    double slope, icpt;
    tifa_zipf_fit(c, 5, &slope, &icpt);
    NEAR(icpt, 1.999492);
    /* exact power law */
    double e[] = {1000, 250, 1000.0 / 9, 62.5};
    NEAR(tifa_zipf_slope(e, 4), -2.0);
    double one[] = {5};
    assert_true(isnan(tifa_zipf_slope(one, 1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_ci),
        cmocka_unit_test(test_dispersion_spec),
        cmocka_unit_test(test_dispersion_edges),
        cmocka_unit_test(test_keyness_spec),
        cmocka_unit_test(test_keyness_more),
        cmocka_unit_test(test_bh),
        cmocka_unit_test(test_trend_fit),
        cmocka_unit_test(test_zipf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
