Feature: Patients sent by GipoNext
  GipoNext sends each patient with PUT under its own id, so the RIS-PACS
  creates the patient on the first delivery and updates it afterwards.

  @PAT-01 @SHALL
  Scenario: A new patient is created
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient
    Then the RIS-PACS reports the patient as created
    And the RIS-PACS stores the patient as sent

  @PAT-01 @SHALL
  Scenario: A known patient with new contact details is updated
    Given the RIS-PACS knows the patient
    When GipoNext sends the patient with new contact details
    Then the RIS-PACS reports the patient as updated
    And the RIS-PACS stores the patient as sent

  @PAT-01 @SHALL
  Scenario: Sending the same patient again changes nothing
    Given the RIS-PACS knows the patient
    When GipoNext sends the patient again unchanged
    Then the RIS-PACS reports the patient as updated
    And the stored patient is unchanged

  @PAT-02 @SHALL @negative
  Scenario Outline: A patient whose body id does not match the address is rejected
    Given a patient the RIS-PACS has never seen
    When GipoNext sends the patient <id fault>
    Then the RIS-PACS rejects the request as invalid
    And the RIS-PACS has not stored the patient

    Examples:
      | id fault                                 |
      | with another patient's id in the body    |
      | without an id in the body                |
