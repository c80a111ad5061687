@outcome @giponext-mock
Feature: GipoNext receives DiagnosticReports
  The GipoNext mock stores a report that meets every rule and rejects one that
  breaks a rule, naming that rule, so a vendor learns what GipoNext will take.

  Background:
    Given GipoNext has sent an order for a patient

  @DR-01 @MOCK
  Scenario: GipoNext stores a conformant report and returns it
    Given a conformant report for the order
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext accepts the report
    And GipoNext returns the report it stored

  @TRN-06 @MOCK @negative
  Scenario: GipoNext rejects a report that is not valid JSON
    Given a report that breaks TRN-06
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under TRN-06
    And GipoNext has stored no report

  @TRN-07 @MOCK @negative
  Scenario: GipoNext rejects another resource type on the report endpoint
    Given a report that breaks TRN-07
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under TRN-07
    And GipoNext has stored no report

  @TRN-09 @MOCK @negative
  Scenario: GipoNext rejects a report with an element unknown to STU3
    Given a report that breaks TRN-09
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under TRN-09
    And GipoNext has stored no report

  @DR-02 @MOCK @negative
  Scenario: GipoNext rejects a report without an id
    Given a report that breaks DR-02
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-02
    And GipoNext has stored no report

  @DR-03 @MOCK @negative
  Scenario: GipoNext rejects a report based on an absolute order URL
    Given a report that breaks DR-03
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-03
    And GipoNext has stored no report

  @DR-03 @MOCK @negative
  Scenario: GipoNext rejects a report based on an order it never sent
    Given a conformant report for an order GipoNext never sent
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-03
    And GipoNext has stored no report

  @DR-04 @MOCK @negative
  Scenario: GipoNext rejects a report whose subject is not a patient
    Given a report that breaks DR-04
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-04
    And GipoNext has stored no report

  @DR-04 @MOCK @negative
  Scenario: GipoNext rejects a report about another patient than the order's
    Given a conformant report about another patient
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-04
    And GipoNext has stored no report

  @DR-05 @MOCK @negative
  Scenario: GipoNext rejects a preliminary report
    Given a report that breaks DR-05
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-05
    And GipoNext has stored no report

  @DR-06 @MOCK @negative
  Scenario: GipoNext rejects a report with a wrong LOINC check digit
    Given a report that breaks DR-06
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-06
    And GipoNext has stored no report

  @DR-07 @MOCK @negative
  Scenario: GipoNext rejects a report without its issue time
    Given a report that breaks DR-07
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-07
    And GipoNext has stored no report

  @DR-08 @MOCK @negative
  Scenario: GipoNext rejects a performer without a valid codice fiscale
    Given a report that breaks DR-08
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-08
    And GipoNext has stored no report

  @DR-08 @MOCK @negative
  Scenario: GipoNext warns about a doctor it does not know
    Given a conformant report signed by a doctor GipoNext does not know
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext accepts the report with a warning under DR-08

  @DR-09 @MOCK @negative
  Scenario: GipoNext rejects an attachment that is not a PDF
    Given a report that breaks DR-09
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-09
    And GipoNext has stored no report

  @DR-10 @MOCK @negative
  Scenario: GipoNext rejects an attachment with both data and url
    Given a report that breaks DR-10
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext rejects the report under DR-10
    And GipoNext has stored no report

  @DR-11 @MOCK @negative
  Scenario: GipoNext warns about an availableOnline flag that is not a boolean
    Given a report that breaks DR-11
    When the RIS-PACS sends the report to GipoNext
    Then GipoNext accepts the report with a warning under DR-11
