#!/usr/bin/env Rscript
# Reference values for the paper's further statistics (analytics/exact_tests.py,
# analytics/competing_risks.py, analytics/drug_response.py, analytics/table1.py).
#
# Run from anywhere:  Rscript analytics/reference/make_paper_reference.R
#
# 1. Generates three cohorts deterministically (set.seed, integer days) and writes them to
#    datasets/paper/paper_*.csv: patients (baseline, competing-risk outcome) and treatment lines.
#      paper_demo  : demo-like, 33 patients, 22 localized operated, 11 metastatic;
#      paper_ties  : 120 patients, tied times and tied continuous values (normal Wilcoxon),
#                    several events of different causes on the same day;
#      paper_heavy : heavy censoring (> 70 %), empty strata (a site with no metastatic
#                    patient, a group with one patient, a cause absent from a group),
#                    response counts of 0 and n.
# 2. Computes with R's defaults: binom.test (Clopper-Pearson), fisher.test, wilcox.test,
#    survfit multi-state (Aalen-Johansen, conf.type "log"), cmprsk::cuminc Gray's test, and
#    survfit KM (conf.type "log-log", the registry's default) for progression-free survival.
# 3. Writes paper_reference.json with the JSON writer of make_reference.R.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else getwd()
data_dir <- file.path(here, "datasets", "paper")
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
DAYS_PER_MONTH <- 30.4375
AT_TIMES <- c(12, 36, 60)

write_ds <- function(df, name) {
  write.csv(df, file.path(data_dir, paste0(name, ".csv")), row.names = FALSE, quote = FALSE)
}
read_ds <- function(name) {
  read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE,
           na.strings = c("", "NA"))
}
days <- function(m) pmax(1L, as.integer(round(m * DAYS_PER_MONTH)))

# --------------------------------------------------------------------------------------------
# 1. Cohorts
# --------------------------------------------------------------------------------------------
make_cohort <- function(seed, n, n_loc, sites, site_prob, cens_range, rates, lines_per,
                        round_to = 1, size_round = 1) {
  set.seed(seed)
  stage <- c(rep("localized", n_loc), rep("metastatic", n - n_loc))
  site <- sample(sites, n, replace = TRUE, prob = site_prob)
  sex <- sample(c("male", "female"), n, replace = TRUE)
  grade <- sample(c("g1", "g2", "g3"), n, replace = TRUE, prob = c(0.2, 0.3, 0.5))
  margins <- ifelse(stage == "localized", sample(c("r0", "r1", "r2"), n, replace = TRUE,
                                                  prob = c(0.7, 0.2, 0.1)), NA)
  chemo <- ifelse(stage == "localized", sample(c("none", "neoadjuvant", "adjuvant"), n,
                                               replace = TRUE, prob = c(0.5, 0.25, 0.25)), NA)
  age <- round(rnorm(n, 60, 11) / round_to) * round_to
  size <- round(rlnorm(n, log(80), 0.5) / size_round) * size_round
  mitoses <- rpois(n, 12)
  ki67 <- round(runif(n, 0, 100), 4)  # continuous, no ties: the exact Wilcoxon below n = 50
  # competing risks after surgery (localized): local relapse, distant relapse, death
  lr <- rexp(n, rates[1]); dr <- rexp(n, rates[2]); de <- rexp(n, rates[3])
  ce <- runif(n, cens_range[1], cens_range[2])
  first <- pmin(lr, dr, de, ce)
  status <- ifelse(first == ce, 0L, ifelse(first == lr, 1L, ifelse(first == dr, 2L, 3L)))
  cr_days <- ifelse(stage == "localized", days(first / round_to) * round_to, NA)
  cr_status <- ifelse(stage == "localized", status, NA)
  patients <- data.frame(
    id = sprintf("P%03d", 1:n), stage = stage, site = site, sex = sex, grade = grade,
    margins = margins, chemo = chemo, age = age, size = size, mitoses = mitoses, ki67 = ki67,
    cr_days = cr_days, cr_status = cr_status
  )
  # treatment lines: perioperative for some localized, advanced lines 1..3 for others
  rows <- list()
  for (i in seq_len(n)) {
    k <- 0
    if (!is.na(chemo[i]) && chemo[i] != "none") {
      rows[[length(rows) + 1]] <- data.frame(id = patients$id[i], setting = chemo[i],
                                            line = NA, regimen = "anthracycline")
    }
    nl <- if (stage[i] == "metastatic") sample(1:3, 1, prob = lines_per) else
      if (status[i] == 2L) sample(0:2, 1) else 0
    for (l in seq_len(nl)) {
      rows[[length(rows) + 1]] <- data.frame(
        id = patients$id[i], setting = "advanced", line = l,
        regimen = sample(c("anthracycline", "gemcitabine_docetaxel", "trabectedin", "other"),
                         1, prob = c(0.45, 0.25, 0.2, 0.1)))
    }
  }
  lines <- do.call(rbind, rows)
  m <- nrow(lines)
  lines$response <- sample(c("CR", "PR", "SD", "PD", "NE"), m, replace = TRUE,
                           prob = c(0.03, 0.15, 0.35, 0.4, 0.07))
  pf <- rexp(m, log(2) / 4.5); pc <- runif(m, 1, 30)
  lines$pfs_days <- ifelse(lines$setting == "advanced", days(pmin(pf, pc) / round_to) *
                             round_to, NA)
  lines$pfs_status <- ifelse(lines$setting == "advanced", as.integer(pf <= pc), NA)
  list(patients = patients, lines = lines)
}

SITES <- c("colon", "oesophagus", "rectum", "small_bowel", "stomach")
demo <- make_cohort(20230717, 33, 22, SITES, c(0.15, 0.08, 0.12, 0.45, 0.2), c(24, 200),
                    c(log(2) / 150, log(2) / 60, log(2) / 400), c(0.5, 0.3, 0.2))
ties <- make_cohort(424242, 120, 70, SITES, c(0.2, 0.1, 0.1, 0.4, 0.2), c(12, 120),
                    c(log(2) / 80, log(2) / 50, log(2) / 200), c(0.4, 0.35, 0.25),
                    round_to = 5, size_round = 10)
heavy <- make_cohort(777, 60, 40, SITES[c(2, 4, 5)], c(0.05, 0.6, 0.35), c(1, 40),
                     c(log(2) / 400, log(2) / 300, log(2) / 900), c(0.6, 0.3, 0.1))
# empty strata: every metastatic patient from small bowel or stomach (oesophagus only in
# localized), one patient alone in "oesophagus"
heavy$patients$site[heavy$patients$stage == "metastatic" &
                    heavy$patients$site == "oesophagus"] <- "stomach"
oes <- which(heavy$patients$site == "oesophagus")
heavy$patients$site[oes[-1]] <- "stomach"
heavy$lines$response[heavy$lines$setting == "advanced" & heavy$lines$line == 3] <- "PD"
stopifnot(mean(heavy$patients$cr_status[heavy$patients$stage == "localized"] == 0) > 0.7)

for (nm in c("demo", "ties", "heavy")) {
  co <- get(nm)
  write_ds(co$patients, paste0("paper_", nm))
  write_ds(co$lines, paste0("paper_", nm, "_lines"))
}

# --------------------------------------------------------------------------------------------
# 2. Reference computations
# --------------------------------------------------------------------------------------------
arr <- function(x) structure(list(values = x), class = "json_array")
GROUPS <- function(lines) {
  key <- ifelse(lines$setting == "advanced", paste0("advanced_", lines$line), lines$setting)
  key
}

binom_cases <- function(ds) {
  lines <- read_ds(paste0(ds, "_lines"))
  key <- GROUPS(lines)
  out <- list()
  for (g in sort(unique(key))) {
    r <- lines$response[key == g]
    ev <- r[r != "NE"]
    n <- length(ev)
    for (what in c("orr", "dcr")) {
      hit <- if (what == "orr") c("CR", "PR") else c("CR", "PR", "SD")
      k <- sum(ev %in% hit)
      ci <- if (n > 0) binom.test(k, n)$conf.int else c(NA, NA)
      out[[length(out) + 1]] <- list(dataset = ds, group = g, what = what, k = k, n = n,
                                     lower = ci[1], upper = ci[2])
    }
  }
  out
}

fisher_case <- function(ds, var) {
  d <- read_ds(ds)
  d <- d[!is.na(d[[var]]), ]
  tab <- table(d[[var]], d$stage)
  list(dataset = ds, var = var, rows = arr(rownames(tab)), cols = arr(colnames(tab)),
       table = lapply(seq_len(nrow(tab)), function(i) arr(as.numeric(tab[i, ]))),
       p = fisher.test(tab)$p.value)
}

wilcox_case <- function(ds, var) {
  d <- read_ds(ds)
  x <- d[[var]][d$stage == "localized"]
  y <- d[[var]][d$stage == "metastatic"]
  w <- suppressWarnings(wilcox.test(x, y))
  ties <- length(unique(c(x, y))) != length(c(x, y))
  list(dataset = ds, var = var, statistic = unname(w$statistic), p = w$p.value,
       exact = (length(x) < 50 && length(y) < 50 && !ties))
}

aj_case <- function(ds) {
  d <- read_ds(ds)
  d <- d[d$stage == "localized", ]
  time <- d$cr_days / DAYS_PER_MONTH
  fit <- survfit(Surv(time, factor(d$cr_status, levels = 0:3)) ~ 1)
  s <- summary(fit, times = AT_TIMES)
  states <- fit$states  # "(s0)", "1", "2", "3"
  per <- list()
  for (k in 1:3) {
    col <- which(states == as.character(k))
    at <- list()
    for (j in seq_along(AT_TIMES)) {
      row <- which(s$time == AT_TIMES[j])
      at[[as.character(AT_TIMES[j])]] <- if (length(row)) {
        list(estimate = s$pstate[row, col], lower = s$lower[row, col],
             upper = s$upper[row, col])
      } else NULL
    }
    per[[as.character(k)]] <- list(
      estimate = arr(fit$pstate[, col]), std_err = arr(fit$std.err[, col]),
      lower = arr(fit$lower[, col]), upper = arr(fit$upper[, col]), at = at,
      one_minus_km = arr(1 - summary(survfit(Surv(time, d$cr_status == k) ~ 1),
                                     times = AT_TIMES, extend = TRUE)$surv))
  }
  list(dataset = ds, n = nrow(d), time = arr(fit$time), n_risk = arr(fit$n.risk[, 1]),
       causes = per)
}

gray_case <- function(ds, var) {
  d <- read_ds(ds)
  d <- d[d$stage == "localized" & !is.na(d[[var]]), ]
  ci <- cuminc(d$cr_days / DAYS_PER_MONTH, d$cr_status, d[[var]])
  tests <- ci$Tests
  out <- list()
  for (cause in rownames(tests)) {
    out[[cause]] <- list(stat = unname(tests[cause, "stat"]), p = unname(tests[cause, "pv"]),
                         df = unname(tests[cause, "df"]))
  }
  list(dataset = ds, var = var, groups = arr(sort(unique(d[[var]]))), tests = out)
}

pfs_case <- function(ds, line) {
  lines <- read_ds(paste0(ds, "_lines"))
  l <- lines[lines$setting == "advanced" & lines$line == line, ]
  fit <- survfit(Surv(l$pfs_days / DAYS_PER_MONTH, l$pfs_status) ~ 1, conf.type = "log-log")
  tab <- summary(fit)$table
  list(dataset = ds, line = line, n = unname(tab["records"]), events = unname(tab["events"]),
       median = unname(tab["median"]), lcl = unname(tab["0.95LCL"]),
       ucl = unname(tab["0.95UCL"]))
}

# --------------------------------------------------------------------------------------------
# 3. JSON (same writer as make_reference.R)
# --------------------------------------------------------------------------------------------
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

DATASETS <- c("paper_demo", "paper_ties", "paper_heavy")
out <- list(
  meta = list(
    generator = "analytics/reference/make_paper_reference.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    cmprsk_version = as.character(packageVersion("cmprsk")),
    days_per_month = DAYS_PER_MONTH,
    at_times = arr(AT_TIMES)
  ),
  binom = do.call(c, lapply(DATASETS, binom_cases)),
  fisher = do.call(c, lapply(DATASETS, function(ds) {
    lapply(c("sex", "site", "grade"), function(v) fisher_case(ds, v))
  })),
  wilcox = do.call(c, lapply(DATASETS, function(ds) {
    lapply(c("age", "size", "mitoses", "ki67"), function(v) wilcox_case(ds, v))
  })),
  aalen_johansen = lapply(DATASETS, aj_case),
  gray = do.call(c, lapply(DATASETS, function(ds) {
    lapply(c("site", "margins", "chemo"), function(v) gray_case(ds, v))
  })),
  pfs = do.call(c, lapply(DATASETS, function(ds) lapply(1:3, function(l) pfs_case(ds, l))))
)
writeLines(to_json(out), file.path(here, "paper_reference.json"))
cat("wrote", file.path(here, "paper_reference.json"), "\n")
