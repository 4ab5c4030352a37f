# Reads the registry export and applies labels (base R, no packages needed).
data <- read.csv("registry_data.csv", colClasses = "character",
                 na.strings = "", encoding = "UTF-8", check.names = FALSE)
# Formula-like cells (= + - @ tab CR, full-width, after spaces) have a leading ' .
unguard <- function(x) {
  rest <- substring(x, 2)
  core <- sub("^'+", "", rest)
  number <- grepl("^[-+]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][-+]?[0-9]+)?$", core, perl = TRUE) &
    is.finite(suppressWarnings(as.numeric(sub(",", ".", core, fixed = TRUE))))
  hit <- startsWith(x, "'") & grepl("^[ \\x{9}\\x{d}\\x{a}\\x{b}\\x{c}\\x{1c}-\\x{1f}\u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]*[=+@\\x{9}\\x{d}\\x00\uff1d\uff0b\uff0d\uff20-]", core, perl = TRUE) & !number
  ifelse(!is.na(x) & hit, rest, x)
}
data[] <- lapply(data, unguard)
# Variable names, also when the CSV's header row holds field labels:
names(data) <- c("record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group", "mrn", "sex", "year_of_birth", "age_at_dx", "kit_negative", "expert_review_confirmed", "dx_in_study_period", "enrolment_complete", "date_dx", "site_of_origin", "site_other", "tumour_size_mm", "fnclcc_grade", "mitotic_count", "kit_cd117", "dog1", "desmin", "sma", "h_caldesmon", "path_review_confirmed", "path_review_date", "pathology_notes", "diagnosis_pathology_complete", "stage_dx", "metastatic_sites___1", "metastatic_sites___2", "metastatic_sites___3", "metastatic_sites___4", "metastatic_sites___5", "metastatic_sites___6", "metastatic_sites___unk", "metastatic_sites___na", "metastatic_sites___nd", "metastatic_sites___nask", "metastatic_sites_other", "stage_complete", "surgery_done", "surgery_date", "surgery_procedure", "margins", "rupture", "primary_surgery_complete", "therapy_setting", "therapy_line", "regimen", "regimen_other", "therapy_start", "therapy_end", "progression_date", "best_response", "systemic_therapy_complete", "rt_given", "rt_setting", "rt_dose_gy", "rt_start", "rt_end", "radiotherapy_complete", "relapse_date", "relapse_type", "relapse_sites___1", "relapse_sites___2", "relapse_sites___3", "relapse_sites___4", "relapse_sites___5", "relapse_sites___6", "relapse_sites___unk", "relapse_sites___na", "relapse_sites___nd", "relapse_sites___nask", "salvage_surgery", "salvage_date", "status_after_salvage", "relapse_complete", "last_contact_date", "vital_status", "death_date", "death_cause", "disease_status_last", "followup_months", "follow_up_complete")
missing_codes <- c("UNK", "NA", "ND", "NASK")
attr(data[["record_id"]], "label") <- "Record ID"
attr(data[["redcap_repeat_instrument"]], "label") <- "Repeat Instrument"
data[["redcap_repeat_instance"]] <- suppressWarnings(as.numeric(ifelse(data[["redcap_repeat_instance"]] %in% missing_codes, NA, data[["redcap_repeat_instance"]])))
attr(data[["redcap_repeat_instance"]], "label") <- "Repeat Instance"
attr(data[["redcap_data_access_group"]], "label") <- "Data Access Group"
attr(data[["mrn"]], "label") <- "Local hospital number"
data[["sex"]] <- factor(data[["sex"]], levels = c("1", "2"), labels = c("Male", "Female"))
attr(data[["sex"]], "label") <- "Sex"
data[["year_of_birth"]] <- suppressWarnings(as.numeric(ifelse(data[["year_of_birth"]] %in% missing_codes, NA, data[["year_of_birth"]])))
attr(data[["year_of_birth"]], "label") <- "Year of birth"
data[["age_at_dx"]] <- suppressWarnings(as.numeric(ifelse(data[["age_at_dx"]] %in% missing_codes, NA, data[["age_at_dx"]])))
attr(data[["age_at_dx"]], "label") <- "Age at diagnosis (years)"
data[["kit_negative"]] <- factor(data[["kit_negative"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["kit_negative"]], "label") <- "KIT (CD117) negative by immunohistochemistry?"
data[["expert_review_confirmed"]] <- factor(data[["expert_review_confirmed"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["expert_review_confirmed"]], "label") <- "Diagnosis of GI-LMS confirmed by a sarcoma-expert pathologist?"
data[["dx_in_study_period"]] <- factor(data[["dx_in_study_period"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["dx_in_study_period"]], "label") <- "Diagnosed between 1 January 2004 and 31 December 2020?"
data[["enrolment_complete"]] <- factor(data[["enrolment_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["enrolment_complete"]], "label") <- "Complete?"
data[["date_dx"]] <- as.Date(ifelse(data[["date_dx"]] %in% missing_codes, NA, data[["date_dx"]]))
attr(data[["date_dx"]], "label") <- "Date of diagnosis"
data[["site_of_origin"]] <- factor(data[["site_of_origin"]], levels = c("1", "2", "3", "4", "5", "6"), labels = c("Oesophagus", "Stomach", "Small bowel", "Colon", "Rectum", "Other"))
attr(data[["site_of_origin"]], "label") <- "Site of origin"
attr(data[["site_other"]], "label") <- "Other site of origin"
data[["tumour_size_mm"]] <- suppressWarnings(as.numeric(ifelse(data[["tumour_size_mm"]] %in% missing_codes, NA, data[["tumour_size_mm"]])))
attr(data[["tumour_size_mm"]], "label") <- "Tumour size (mm)"
data[["fnclcc_grade"]] <- factor(data[["fnclcc_grade"]], levels = c("1", "2", "3"), labels = c("Grade 1", "Grade 2", "Grade 3"))
attr(data[["fnclcc_grade"]], "label") <- "FNCLCC grade"
data[["mitotic_count"]] <- suppressWarnings(as.numeric(ifelse(data[["mitotic_count"]] %in% missing_codes, NA, data[["mitotic_count"]])))
attr(data[["mitotic_count"]], "label") <- "Mitotic count (per 10 HPF)"
data[["kit_cd117"]] <- factor(data[["kit_cd117"]], levels = c("1", "2", "3"), labels = c("Positive", "Negative", "Not done"))
attr(data[["kit_cd117"]], "label") <- "KIT (CD117)"
data[["dog1"]] <- factor(data[["dog1"]], levels = c("1", "2", "3"), labels = c("Positive", "Negative", "Not done"))
attr(data[["dog1"]], "label") <- "DOG1"
data[["desmin"]] <- factor(data[["desmin"]], levels = c("1", "2", "3"), labels = c("Positive", "Negative", "Not done"))
attr(data[["desmin"]], "label") <- "Desmin"
data[["sma"]] <- factor(data[["sma"]], levels = c("1", "2", "3"), labels = c("Positive", "Negative", "Not done"))
attr(data[["sma"]], "label") <- "Smooth muscle actin (SMA)"
data[["h_caldesmon"]] <- factor(data[["h_caldesmon"]], levels = c("1", "2", "3"), labels = c("Positive", "Negative", "Not done"))
attr(data[["h_caldesmon"]], "label") <- "h-Caldesmon"
data[["path_review_confirmed"]] <- factor(data[["path_review_confirmed"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["path_review_confirmed"]], "label") <- "Expert pathology review confirmed the diagnosis?"
data[["path_review_date"]] <- as.Date(ifelse(data[["path_review_date"]] %in% missing_codes, NA, data[["path_review_date"]]))
attr(data[["path_review_date"]], "label") <- "Date of the expert review"
attr(data[["pathology_notes"]], "label") <- "Pathology notes"
data[["diagnosis_pathology_complete"]] <- factor(data[["diagnosis_pathology_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["diagnosis_pathology_complete"]], "label") <- "Complete?"
data[["stage_dx"]] <- factor(data[["stage_dx"]], levels = c("1", "2", "3"), labels = c("Localized", "Locally advanced", "Metastatic"))
attr(data[["stage_dx"]], "label") <- "Stage at diagnosis"
data[["metastatic_sites___1"]] <- factor(data[["metastatic_sites___1"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___1"]], "label") <- "Sites of metastasis at diagnosis (choice=Liver)"
data[["metastatic_sites___2"]] <- factor(data[["metastatic_sites___2"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___2"]], "label") <- "Sites of metastasis at diagnosis (choice=Lung)"
data[["metastatic_sites___3"]] <- factor(data[["metastatic_sites___3"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___3"]], "label") <- "Sites of metastasis at diagnosis (choice=Peritoneum)"
data[["metastatic_sites___4"]] <- factor(data[["metastatic_sites___4"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___4"]], "label") <- "Sites of metastasis at diagnosis (choice=Bone)"
data[["metastatic_sites___5"]] <- factor(data[["metastatic_sites___5"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___5"]], "label") <- "Sites of metastasis at diagnosis (choice=Distant lymph nodes)"
data[["metastatic_sites___6"]] <- factor(data[["metastatic_sites___6"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___6"]], "label") <- "Sites of metastasis at diagnosis (choice=Other)"
data[["metastatic_sites___unk"]] <- factor(data[["metastatic_sites___unk"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___unk"]], "label") <- "Sites of metastasis at diagnosis (choice=Unknown)"
data[["metastatic_sites___na"]] <- factor(data[["metastatic_sites___na"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___na"]], "label") <- "Sites of metastasis at diagnosis (choice=Not applicable)"
data[["metastatic_sites___nd"]] <- factor(data[["metastatic_sites___nd"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___nd"]], "label") <- "Sites of metastasis at diagnosis (choice=Not done)"
data[["metastatic_sites___nask"]] <- factor(data[["metastatic_sites___nask"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["metastatic_sites___nask"]], "label") <- "Sites of metastasis at diagnosis (choice=Not asked)"
attr(data[["metastatic_sites_other"]], "label") <- "Other metastatic site"
data[["stage_complete"]] <- factor(data[["stage_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["stage_complete"]], "label") <- "Complete?"
data[["surgery_done"]] <- factor(data[["surgery_done"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["surgery_done"]], "label") <- "Surgery of the primary tumour?"
data[["surgery_date"]] <- as.Date(ifelse(data[["surgery_date"]] %in% missing_codes, NA, data[["surgery_date"]]))
attr(data[["surgery_date"]], "label") <- "Date of surgery"
attr(data[["surgery_procedure"]], "label") <- "Surgical procedure"
data[["margins"]] <- factor(data[["margins"]], levels = c("0", "1", "2"), labels = c("R0 (microscopically negative)", "R1 (microscopically positive)", "R2 (macroscopic residual disease)"))
attr(data[["margins"]], "label") <- "Resection margins"
data[["rupture"]] <- factor(data[["rupture"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["rupture"]], "label") <- "Tumour rupture before or during surgery?"
data[["primary_surgery_complete"]] <- factor(data[["primary_surgery_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["primary_surgery_complete"]], "label") <- "Complete?"
data[["therapy_setting"]] <- factor(data[["therapy_setting"]], levels = c("1", "2", "3"), labels = c("Neoadjuvant", "Adjuvant", "Advanced/metastatic"))
attr(data[["therapy_setting"]], "label") <- "Setting"
data[["therapy_line"]] <- suppressWarnings(as.numeric(ifelse(data[["therapy_line"]] %in% missing_codes, NA, data[["therapy_line"]])))
attr(data[["therapy_line"]], "label") <- "Line of treatment for advanced disease"
data[["regimen"]] <- factor(data[["regimen"]], levels = c("1", "2", "3", "4", "5", "6", "7", "8"), labels = c("Doxorubicin", "Doxorubicin + ifosfamide", "Doxorubicin + dacarbazine", "Gemcitabine + docetaxel", "Trabectedin", "Eribulin", "Pazopanib", "Other"))
attr(data[["regimen"]], "label") <- "Regimen"
attr(data[["regimen_other"]], "label") <- "Other regimen"
data[["therapy_start"]] <- as.Date(ifelse(data[["therapy_start"]] %in% missing_codes, NA, data[["therapy_start"]]))
attr(data[["therapy_start"]], "label") <- "Start date"
data[["therapy_end"]] <- as.Date(ifelse(data[["therapy_end"]] %in% missing_codes, NA, data[["therapy_end"]]))
attr(data[["therapy_end"]], "label") <- "End date"
data[["progression_date"]] <- as.Date(ifelse(data[["progression_date"]] %in% missing_codes, NA, data[["progression_date"]]))
attr(data[["progression_date"]], "label") <- "Date of progression on this line"
data[["best_response"]] <- factor(data[["best_response"]], levels = c("1", "2", "3", "4", "5"), labels = c("CR (complete response)", "PR (partial response)", "SD (stable disease)", "PD (progressive disease)", "NE (not evaluable)"))
attr(data[["best_response"]], "label") <- "Best response (RECIST 1.1)"
data[["systemic_therapy_complete"]] <- factor(data[["systemic_therapy_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["systemic_therapy_complete"]], "label") <- "Complete?"
data[["rt_given"]] <- factor(data[["rt_given"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["rt_given"]], "label") <- "Radiotherapy given?"
data[["rt_setting"]] <- factor(data[["rt_setting"]], levels = c("1", "2", "3"), labels = c("Neoadjuvant", "Adjuvant", "Palliative"))
attr(data[["rt_setting"]], "label") <- "Setting"
data[["rt_dose_gy"]] <- suppressWarnings(as.numeric(ifelse(data[["rt_dose_gy"]] %in% missing_codes, NA, data[["rt_dose_gy"]])))
attr(data[["rt_dose_gy"]], "label") <- "Total dose (Gy)"
data[["rt_start"]] <- as.Date(ifelse(data[["rt_start"]] %in% missing_codes, NA, data[["rt_start"]]))
attr(data[["rt_start"]], "label") <- "Start date"
data[["rt_end"]] <- as.Date(ifelse(data[["rt_end"]] %in% missing_codes, NA, data[["rt_end"]]))
attr(data[["rt_end"]], "label") <- "End date"
data[["radiotherapy_complete"]] <- factor(data[["radiotherapy_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["radiotherapy_complete"]], "label") <- "Complete?"
data[["relapse_date"]] <- as.Date(ifelse(data[["relapse_date"]] %in% missing_codes, NA, data[["relapse_date"]]))
attr(data[["relapse_date"]], "label") <- "Date of relapse"
data[["relapse_type"]] <- factor(data[["relapse_type"]], levels = c("1", "2"), labels = c("Local", "Distant"))
attr(data[["relapse_type"]], "label") <- "Type of relapse"
data[["relapse_sites___1"]] <- factor(data[["relapse_sites___1"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___1"]], "label") <- "Sites of relapse (choice=Primary site / abdomen)"
data[["relapse_sites___2"]] <- factor(data[["relapse_sites___2"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___2"]], "label") <- "Sites of relapse (choice=Liver)"
data[["relapse_sites___3"]] <- factor(data[["relapse_sites___3"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___3"]], "label") <- "Sites of relapse (choice=Lung)"
data[["relapse_sites___4"]] <- factor(data[["relapse_sites___4"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___4"]], "label") <- "Sites of relapse (choice=Peritoneum)"
data[["relapse_sites___5"]] <- factor(data[["relapse_sites___5"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___5"]], "label") <- "Sites of relapse (choice=Bone)"
data[["relapse_sites___6"]] <- factor(data[["relapse_sites___6"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___6"]], "label") <- "Sites of relapse (choice=Other)"
data[["relapse_sites___unk"]] <- factor(data[["relapse_sites___unk"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___unk"]], "label") <- "Sites of relapse (choice=Unknown)"
data[["relapse_sites___na"]] <- factor(data[["relapse_sites___na"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___na"]], "label") <- "Sites of relapse (choice=Not applicable)"
data[["relapse_sites___nd"]] <- factor(data[["relapse_sites___nd"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___nd"]], "label") <- "Sites of relapse (choice=Not done)"
data[["relapse_sites___nask"]] <- factor(data[["relapse_sites___nask"]], levels = c("0", "1"), labels = c("Unchecked", "Checked"))
attr(data[["relapse_sites___nask"]], "label") <- "Sites of relapse (choice=Not asked)"
data[["salvage_surgery"]] <- factor(data[["salvage_surgery"]], levels = c("1", "0"), labels = c("Yes", "No"))
attr(data[["salvage_surgery"]], "label") <- "Salvage surgery?"
data[["salvage_date"]] <- as.Date(ifelse(data[["salvage_date"]] %in% missing_codes, NA, data[["salvage_date"]]))
attr(data[["salvage_date"]], "label") <- "Date of salvage surgery"
data[["status_after_salvage"]] <- factor(data[["status_after_salvage"]], levels = c("1", "2", "3"), labels = c("NED (no evidence of disease)", "Residual disease", "Unknown"))
attr(data[["status_after_salvage"]], "label") <- "Status after salvage surgery"
data[["relapse_complete"]] <- factor(data[["relapse_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["relapse_complete"]], "label") <- "Complete?"
data[["last_contact_date"]] <- as.Date(ifelse(data[["last_contact_date"]] %in% missing_codes, NA, data[["last_contact_date"]]))
attr(data[["last_contact_date"]], "label") <- "Date of last contact"
data[["vital_status"]] <- factor(data[["vital_status"]], levels = c("1", "0"), labels = c("Alive", "Dead"))
attr(data[["vital_status"]], "label") <- "Vital status at last contact"
data[["death_date"]] <- as.Date(ifelse(data[["death_date"]] %in% missing_codes, NA, data[["death_date"]]))
attr(data[["death_date"]], "label") <- "Date of death"
data[["death_cause"]] <- factor(data[["death_cause"]], levels = c("1", "2", "3", "4"), labels = c("GI-LMS", "Treatment-related", "Other cause", "Unknown"))
attr(data[["death_cause"]], "label") <- "Cause of death"
data[["disease_status_last"]] <- factor(data[["disease_status_last"]], levels = c("1", "2", "3", "4", "5"), labels = c("NED (no evidence of disease)", "Alive with disease", "Dead of disease", "Dead of other cause", "Unknown"))
attr(data[["disease_status_last"]], "label") <- "Disease status at last contact"
data[["followup_months"]] <- suppressWarnings(as.numeric(ifelse(data[["followup_months"]] %in% missing_codes, NA, data[["followup_months"]])))
attr(data[["followup_months"]], "label") <- "Follow-up from diagnosis (months)"
data[["follow_up_complete"]] <- factor(data[["follow_up_complete"]], levels = c("0", "1", "2"), labels = c("Incomplete", "Unverified", "Complete"))
attr(data[["follow_up_complete"]], "label") <- "Complete?"
