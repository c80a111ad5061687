@outcome @giponext-mock
Feature: Correcting and withdrawing a report on GipoNext
  A RIS-PACS corrects a report it sent with PUT, naming the version it read,
  and withdraws it with DELETE; a second POST of the same id is a conflict.

  Background:
    Given GipoNext has sent an order for a patient
    And GipoNext has stored a report for the order

  @DR-01 @MOCK
  Scenario Outline: GipoNext stores a correction that names the current version
    When the RIS-PACS corrects the report naming the current version as a <form> ETag
    Then GipoNext stores the correction as version 2

    Examples:
      | form   |
      | weak   |
      | strong |

  @DR-01 @MOCK @negative
  Scenario: GipoNext refuses a correction based on an outdated version
    Given the report was corrected since the RIS-PACS read it
    When the RIS-PACS corrects the report naming the version it read
    Then GipoNext reports a version conflict
    And the stored report is still version 2

  @DR-01 @MOCK
  Scenario: GipoNext withdraws a report
    When the RIS-PACS withdraws the report
    Then GipoNext confirms the withdrawal
    And reading the report shows that it was withdrawn

  @DR-02 @MOCK @negative
  Scenario: GipoNext refuses a second report with the same id
    When the RIS-PACS sends the report to GipoNext again
    Then GipoNext reports that the report already exists
    And the stored report is still version 1
