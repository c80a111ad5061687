Feature: What GipoNext guarantees on the transport
  GipoNext sends nothing to a RIS-PACS it cannot trust, and labels every body
  it sends as FHIR JSON.

  @TRN-01 @SHALL @negative
  Scenario Outline: GipoNext sends no patient to a RIS-PACS it cannot trust
    Given a RIS-PACS served <transport fault>
    When GipoNext tries to send a patient to that RIS-PACS
    Then that RIS-PACS has received nothing from GipoNext
    And the transport check reports <finding>

    Examples:
      | transport fault                                      | finding                            |
      | with a certificate from a CA GipoNext does not trust | an untrusted certificate authority |
      | over plain HTTP                                      | plain HTTP                         |

  @TRN-02 @SHALL
  Scenario: GipoNext labels every body it sends as FHIR JSON
    Given a patient the RIS-PACS has never seen
    And a new order for the patient
    When GipoNext sends the patient and then the order
    Then every body GipoNext sent was labelled as FHIR JSON
