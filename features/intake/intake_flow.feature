Feature: Intake of a new patient and order
  GipoNext registers a patient on the RIS-PACS and then orders an exam for
  that patient, in this order, every time a patient is accepted.

  @FLOW-01 @SHALL
  Scenario: GipoNext registers a new patient and orders an exam
    Given a patient the RIS-PACS has never seen
    And a new order for the patient
    When GipoNext sends the patient and then the order
    Then the RIS-PACS accepts both the patient and the order
