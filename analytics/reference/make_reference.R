#!/usr/bin/env Rscript
# Reference values for analytics/survival.py, computed with R's survival package.
#
# Run from anywhere:  Rscript analytics/reference/make_reference.R
#
# 1. Generates the input datasets deterministically (set.seed, integer days, integer status)
#    and writes them to datasets/*.csv.  Times are stored as whole days; both R and Python
#    convert them to months as days / 30.4375, so both sides see bit-identical doubles.
# 2. Reads the CSVs back and computes, with survival's defaults unless stated:
#      survfit (KM) for conf.type "log" and "log-log": full curve, summary()$table median
#      and CI, quantile(), summary(fit, times=...) (extend=FALSE) and n.risk (extend=TRUE);
#      reverse KM (Surv(time, 1 - status)) for median follow-up;
#      survdiff (log-rank); coxph(ties = "efron") univariable, factor and numeric.
# 3. Writes survival_reference.json.  jsonlite is not assumed to be installed: the JSON is
#    written by hand with sprintf("%.15g"); NA / NaN / Inf are written as null.
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else getwd()
data_dir <- file.path(here, "datasets")
dir.create(data_dir, showWarnings = FALSE)

DAYS_PER_MONTH <- 30.4375

# --------------------------------------------------------------------------------------------
# 1. Datasets
# --------------------------------------------------------------------------------------------
write_ds <- function(df, name) {
  write.csv(df, file.path(data_dir, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
}
month_days <- function(m) pmax(1L, as.integer(round(m * DAYS_PER_MONTH)))

# GI-LMS-like cohort: 33 patients, 6 centres, diagnosed 2004-2020, cut-off mid 2022.
set.seed(20230717)
n <- 33
stage <- c(rep("localized", 24), rep("metastatic", 9))[sample(n)]
site <- sample(c("small_intestine", "stomach", "colon", "rectum", "oesophagus"), n,
               replace = TRUE, prob = c(0.45, 0.2, 0.15, 0.12, 0.08))
centre <- sample(paste0("C", 1:6), n, replace = TRUE)
age <- as.integer(round(rnorm(n, 58, 12)))
admin <- runif(n, 18, 220)                      # months from diagnosis to data cut-off
lost <- ifelse(runif(n) < 0.15, runif(n, 6, 120), Inf)
cens <- pmin(admin, lost)
os_true <- ifelse(stage == "localized", rexp(n, log(2) / 193), rexp(n, log(2) / 16.4))
dfs_true <- ifelse(stage == "localized", pmin(rexp(n, log(2) / 42), os_true), NA)
gi <- data.frame(
  id = sprintf("P%02d", 1:n), centre = centre, site = site, stage = stage, age = age,
  os_days = month_days(pmin(os_true, cens)), os_status = as.integer(os_true <= cens),
  dfs_days = ifelse(stage == "localized", month_days(pmin(dfs_true, cens)), NA),
  dfs_status = ifelse(stage == "localized", as.integer(dfs_true <= cens), NA)
)
write_ds(gi, "gi_lms")

# Many tied times (events and censorings at the same times), integer covariate with ties.
set.seed(101)
n <- 60
ties <- data.frame(
  days = sample(c(30L, 61L, 91L, 183L, 365L, 548L, 730L), n, replace = TRUE),
  status = rbinom(n, 1, 0.6),
  group = sample(c("a", "b"), n, replace = TRUE),
  x = sample(0:3, n, replace = TRUE)
)
write_ds(ties, "ties")

# Heavy censoring (> 70 % censored).
set.seed(202)
n <- 80
ev <- rexp(n, 1 / 150)
ce <- runif(n, 1, 60)
heavy <- data.frame(
  days = month_days(pmin(ev, ce)), status = as.integer(ev <= ce),
  group = sample(c("g1", "g2", "g3"), n, replace = TRUE), x = round(rnorm(n), 2)
)
stopifnot(mean(heavy$status == 0) > 0.7)
write_ds(heavy, "heavy_censoring")

# Median not reached: cure fraction.
set.seed(303)
n <- 40
cured <- runif(n) < 0.7
ev <- ifelse(cured, Inf, rexp(n, 1 / 20))
ce <- runif(n, 12, 120)
nomed <- data.frame(
  days = month_days(pmin(ev, ce)), status = as.integer(ev <= ce),
  group = sample(c("early", "late"), n, replace = TRUE)
)
write_ds(nomed, "median_not_reached")

# Curves sitting exactly at S = 0.5 over a stretch (hand-made, in days).
#   drop: 10 patients, 5 deaths -> S = 0.5, censorings, then a death: median = (50 + 90) / 2
#   end : curve ends flat at 0.5 (summary()$table and quantile() disagree here)
#   mid : censoring before the 0.5 stretch: 6 at risk, 3 deaths -> 0.5
half <- rbind(
  data.frame(days = c(10, 20, 30, 40, 50, 60, 70, 90, 120, 120),
             status = c(1, 1, 1, 1, 1, 0, 0, 1, 1, 1), group = "drop"),
  data.frame(days = c(10, 20, 30, 40), status = c(1, 1, 0, 0), group = "end"),
  data.frame(days = c(5, 10, 20, 30, 35, 50, 60), status = c(0, 1, 1, 1, 0, 1, 0),
             group = "mid")
)
half$days <- as.integer(half$days)
half$status <- as.integer(half$status)
write_ds(half, "half")

# A single group (log-rank / Cox must refuse, as survdiff does).
set.seed(404)
n <- 25
single <- data.frame(days = month_days(rexp(n, 1 / 30)), status = rbinom(n, 1, 0.8),
                     group = "all")
write_ds(single, "single_group")

# A group with one patient: grp C = one patient with an event mid-range;
# grp2 D = one patient censored before the first event (expected = 0: survdiff drops it from df).
set.seed(505)
n <- 29
base <- data.frame(days = month_days(rexp(n, 1 / 40)), status = rbinom(n, 1, 0.75))
base <- base[order(base$days), ]
mid_days <- base$days[floor(n / 2)] + 1L
onep <- rbind(
  data.frame(days = base$days, status = base$status,
             grp = rep(c("A", "B"), length.out = n), grp2 = rep(c("A", "B"), length.out = n)),
  data.frame(days = mid_days, status = 1L, grp = "C", grp2 = "A")
)
first_event <- min(onep$days[onep$status == 1])
onep <- rbind(onep, data.frame(days = max(1L, first_event - 1L), status = 0L, grp = "A",
                               grp2 = "D"))
write_ds(onep, "one_patient_group")

# Observations at time 0 (death / loss on the day of diagnosis): survfit0 adds no extra row.
zero <- data.frame(days = c(0L, 0L, 0L, 15L, 40L, 40L, 95L, 180L, 365L, 400L, 731L, 900L),
                   status = c(1L, 0L, 1L, 1L, 1L, 0L, 1L, 0L, 1L, 1L, 0L, 1L),
                   group = rep(c("p", "q"), 6))
write_ds(zero, "time_zero")

# ~500 patients, three groups, numeric covariate, tied integer days.
set.seed(606)
n <- 500
grp <- sample(c("x", "y", "z"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
age <- round(rnorm(n, 60, 10), 1)
rate <- (1 / 40) * c(x = 1, y = 1.4, z = 2.2)[grp] * exp(0.02 * (age - 60))
ev <- rexp(n, rate)
ce <- runif(n, 6, 150)
large <- data.frame(days = as.integer(ceiling(pmin(ev, ce) * 7)) * 4L,  # weekly-ish grid: ties
                    status = as.integer(ev <= ce), group = grp, age = age)
write_ds(large, "large")

# --------------------------------------------------------------------------------------------
# 2. Reference computations
# --------------------------------------------------------------------------------------------
read_ds <- function(name) {
  read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
}

SUMMARY_TIMES <- c(0, 1, 6, 12, 24, 36, 60, 120, 180, 240)
AT_RISK_TIMES <- c(0, 12, 24, 36, 48, 60, 120, 180, 240)

km_ref <- function(time, status, conf_type) {
  fit <- survfit(Surv(time, status) ~ 1, conf.type = conf_type)
  tab <- summary(fit)$table
  q <- quantile(fit, probs = 0.5)
  s <- summary(fit, times = SUMMARY_TIMES)       # extend = FALSE: times > max(time) dropped
  r <- summary(fit, times = AT_RISK_TIMES, extend = TRUE)
  list(
    n = fit$n, events = sum(fit$n.event),
    time = arr(fit$time), n_risk = arr(fit$n.risk), n_event = arr(fit$n.event),
    n_censor = arr(fit$n.censor), surv = arr(fit$surv), std_err = arr(fit$std.err),
    lower = arr(fit$lower), upper = arr(fit$upper),
    table = list(median = unname(tab["median"]), lcl = unname(tab["0.95LCL"]),
                 ucl = unname(tab["0.95UCL"])),
    quantile = list(median = unname(q$quantile), lcl = unname(q$lower),
                    ucl = unname(q$upper)),
    summary_times = list(time = arr(s$time), surv = arr(s$surv), lower = arr(s$lower),
                         upper = arr(s$upper), n_risk = arr(s$n.risk)),
    at_risk = list(time = arr(r$time), n_risk = arr(r$n.risk))
  )
}

km_case <- function(id, ds, time_col, status_col, filter_col = NULL, filter_val = NULL,
                    reverse = FALSE) {
  d <- read_ds(ds)
  keep <- !is.na(d[[time_col]]) & !is.na(d[[status_col]])
  if (!is.null(filter_col)) keep <- keep & d[[filter_col]] == filter_val
  d <- d[keep, ]
  time <- d[[time_col]] / DAYS_PER_MONTH
  status <- d[[status_col]]
  if (reverse) status <- 1 - status
  list(
    id = id, dataset = ds, time_col = time_col, status_col = status_col,
    filter = if (is.null(filter_col)) NULL else list(column = filter_col, value = filter_val),
    reverse = reverse,
    conf_types = list(`log` = km_ref(time, status, "log"),
                      `log-log` = km_ref(time, status, "log-log"))
  )
}

logrank_case <- function(id, ds, time_col, status_col, group_col) {
  d <- read_ds(ds)
  d <- d[!is.na(d[[time_col]]) & !is.na(d[[status_col]]) & !is.na(d[[group_col]]), ]
  time <- d[[time_col]] / DAYS_PER_MONTH
  g <- factor(d[[group_col]])
  sd <- survdiff(Surv(time, d[[status_col]]) ~ g)
  df <- sum(sd$exp > 0) - 1
  list(id = id, dataset = ds, time_col = time_col, status_col = status_col,
       group_col = group_col, chisq = sd$chisq, df = df, p = sd$pvalue,
       groups = arr(levels(g)), n = arr(as.numeric(sd$n)), observed = arr(sd$obs),
       expected = arr(sd$exp), var = lapply(seq_len(nrow(sd$var)), function(i) arr(sd$var[i, ])))
}

cox_case <- function(id, ds, time_col, status_col, covariate, type, reference = NULL) {
  d <- read_ds(ds)
  d <- d[!is.na(d[[time_col]]) & !is.na(d[[status_col]]) & !is.na(d[[covariate]]), ]
  time <- d[[time_col]] / DAYS_PER_MONTH
  if (type == "factor") {
    lev <- sort(unique(d[[covariate]]))
    if (!is.null(reference)) lev <- c(reference, setdiff(lev, reference))
    x <- factor(d[[covariate]], levels = lev)
    terms <- lev[-1]
    ref <- lev[1]
  } else {
    x <- d[[covariate]]
    terms <- covariate
    ref <- NULL
  }
  fit <- coxph(Surv(time, d[[status_col]]) ~ x, ties = "efron")
  s <- summary(fit)
  ci <- exp(confint(fit))
  list(
    id = id, dataset = ds, time_col = time_col, status_col = status_col,
    covariate = covariate, type = type, reference = ref, terms = arr(terms),
    coef = arr(unname(coef(fit))), se = arr(unname(sqrt(diag(vcov(fit))))),
    hr = arr(unname(exp(coef(fit)))), hr_lower = arr(unname(ci[, 1])),
    hr_upper = arr(unname(ci[, 2])), z = arr(unname(s$coefficients[, "z"])),
    p = arr(unname(s$coefficients[, "Pr(>|z|)"])),
    loglik_null = fit$loglik[1], loglik = fit$loglik[2],
    # summary()$waldtest rounds the statistic to 2 decimals: take it from the fit
    wald = list(chisq = as.vector(fit$wald.test), df = unname(s$waldtest["df"]),
                p = unname(s$waldtest["pvalue"])),
    lr = list(chisq = unname(s$logtest["test"]), df = unname(s$logtest["df"]),
              p = unname(s$logtest["pvalue"])),
    score = list(chisq = unname(s$sctest["test"]), df = unname(s$sctest["df"]),
                 p = unname(s$sctest["pvalue"])),
    n = fit$n, events = fit$nevent, iter = fit$iter
  )
}

# --------------------------------------------------------------------------------------------
# 3. Minimal JSON writer (jsonlite not required)
# --------------------------------------------------------------------------------------------
arr <- function(x) structure(list(values = x), class = "json_array")

json_scalar <- function(v) {
  if (is.null(v) || length(v) == 0) return("null")
  if (is.logical(v)) return(if (is.na(v)) "null" else if (v) "true" else "false")
  if (is.numeric(v)) return(if (!is.finite(v)) "null" else sprintf("%.15g", v))
  s <- as.character(v)
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  paste0("\"", s, "\"")
}

to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.null(x)) return("null")
  if (inherits(x, "json_array")) {
    v <- x$values
    if (length(v) == 0) return("[]")
    return(paste0("[", paste(vapply(v, json_scalar, ""), collapse = ", "), "]"))
  }
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(seq_along(x), function(i) to_json(x[[i]], indent + 2), "")
    if (is.null(names(x))) {
      return(paste0("[\n", pad, paste(items, collapse = paste0(",\n", pad)), "\n", end, "]"))
    }
    keys <- vapply(names(x), json_scalar, "")
    return(paste0("{\n", pad, paste(paste0(keys, ": ", items), collapse = paste0(",\n", pad)),
                  "\n", end, "}"))
  }
  if (length(x) != 1) stop("wrap vectors in arr()")
  json_scalar(x)
}

# --------------------------------------------------------------------------------------------
# 4. Cases
# --------------------------------------------------------------------------------------------
km_cases <- list(
  km_case("gi_os", "gi_lms", "os_days", "os_status"),
  km_case("gi_os_localized", "gi_lms", "os_days", "os_status", "stage", "localized"),
  km_case("gi_os_metastatic", "gi_lms", "os_days", "os_status", "stage", "metastatic"),
  km_case("gi_dfs_localized", "gi_lms", "dfs_days", "dfs_status", "stage", "localized"),
  km_case("gi_followup_localized", "gi_lms", "os_days", "os_status", "stage", "localized",
          reverse = TRUE),
  km_case("gi_followup", "gi_lms", "os_days", "os_status", reverse = TRUE),
  km_case("ties", "ties", "days", "status"),
  km_case("ties_a", "ties", "days", "status", "group", "a"),
  km_case("heavy", "heavy_censoring", "days", "status"),
  km_case("heavy_followup", "heavy_censoring", "days", "status", reverse = TRUE),
  km_case("nomed", "median_not_reached", "days", "status"),
  km_case("nomed_late", "median_not_reached", "days", "status", "group", "late"),
  km_case("half_drop", "half", "days", "status", "group", "drop"),
  km_case("half_end", "half", "days", "status", "group", "end"),
  km_case("half_mid", "half", "days", "status", "group", "mid"),
  km_case("single", "single_group", "days", "status"),
  km_case("onep_C", "one_patient_group", "days", "status", "grp", "C"),
  km_case("onep_D", "one_patient_group", "days", "status", "grp2", "D"),
  km_case("time_zero", "time_zero", "days", "status"),
  km_case("time_zero_followup", "time_zero", "days", "status", reverse = TRUE),
  km_case("large", "large", "days", "status"),
  km_case("large_z", "large", "days", "status", "group", "z"),
  km_case("large_followup", "large", "days", "status", reverse = TRUE)
)

logrank_cases <- list(
  logrank_case("gi_os_stage", "gi_lms", "os_days", "os_status", "stage"),
  logrank_case("gi_os_site", "gi_lms", "os_days", "os_status", "site"),
  logrank_case("gi_os_centre", "gi_lms", "os_days", "os_status", "centre"),
  logrank_case("gi_dfs_site", "gi_lms", "dfs_days", "dfs_status", "site"),
  logrank_case("ties_group", "ties", "days", "status", "group"),
  logrank_case("heavy_group", "heavy_censoring", "days", "status", "group"),
  logrank_case("nomed_group", "median_not_reached", "days", "status", "group"),
  logrank_case("half_group", "half", "days", "status", "group"),
  logrank_case("onep_grp", "one_patient_group", "days", "status", "grp"),
  logrank_case("onep_grp2", "one_patient_group", "days", "status", "grp2"),
  logrank_case("time_zero_group", "time_zero", "days", "status", "group"),
  logrank_case("large_group", "large", "days", "status", "group")
)

cox_cases <- list(
  cox_case("gi_os_stage", "gi_lms", "os_days", "os_status", "stage", "factor"),
  cox_case("gi_os_site", "gi_lms", "os_days", "os_status", "site", "factor",
           reference = "small_intestine"),
  cox_case("gi_os_centre", "gi_lms", "os_days", "os_status", "centre", "factor"),
  cox_case("gi_os_age", "gi_lms", "os_days", "os_status", "age", "numeric"),
  cox_case("ties_group", "ties", "days", "status", "group", "factor"),
  cox_case("ties_x", "ties", "days", "status", "x", "numeric"),
  cox_case("heavy_group", "heavy_censoring", "days", "status", "group", "factor"),
  cox_case("heavy_x", "heavy_censoring", "days", "status", "x", "numeric"),
  cox_case("onep_grp", "one_patient_group", "days", "status", "grp", "factor"),
  cox_case("onep_grp_refB", "one_patient_group", "days", "status", "grp", "factor",
           reference = "B"),
  cox_case("time_zero_group", "time_zero", "days", "status", "group", "factor"),
  cox_case("large_group", "large", "days", "status", "group", "factor"),
  cox_case("large_age", "large", "days", "status", "age", "numeric")
)

single_logrank_error <- tryCatch({
  d <- read_ds("single_group")
  survdiff(Surv(d$days / DAYS_PER_MONTH, d$status) ~ factor(d$group))
  "no error"
}, error = function(e) conditionMessage(e))

out <- list(
  meta = list(
    generator = "analytics/reference/make_reference.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    days_per_month = DAYS_PER_MONTH,
    summary_times = arr(SUMMARY_TIMES),
    at_risk_times = arr(AT_RISK_TIMES),
    single_group_logrank_error = single_logrank_error
  ),
  km = km_cases,
  logrank = logrank_cases,
  cox = cox_cases
)
writeLines(to_json(out), file.path(here, "survival_reference.json"))
cat("wrote", file.path(here, "survival_reference.json"), "\n")
