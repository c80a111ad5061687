Feature: Media type of the bodies GipoNext sends
  Every patient and order GipoNext sends is labelled as FHIR JSON.

  @TRN-02 @SHALL
  Scenario: GipoNext labels every body it sends as FHIR JSON
    Given a patient the RIS-PACS has never seen
    And a new order for the patient
    When GipoNext sends the patient and then the order
    Then every body GipoNext sent was labelled as FHIR JSON
