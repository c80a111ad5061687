Feature: GipoNext sends nothing over a transport it cannot trust
  GipoNext verifies the RIS-PACS certificate and refuses plain HTTP before it
  sends a single request.

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
