Feature: Orders sent by GipoNext
  GipoNext creates each order (a ProcedureRequest) with POST and its own id,
  which the RIS-PACS keeps so that reports can refer to it. An order never
  changes once created.

  Background:
    Given the RIS-PACS knows the patient

  @PR-01 @PR-02 @SHALL
  Scenario: A new order is created under GipoNext's id
    Given a new order for the patient
    When GipoNext sends the order
    Then the RIS-PACS reports the order as created
    And the order keeps GipoNext's id

  @PR-09 @SHALL @negative
  Scenario: An order for an unknown patient is rejected
    Given an order for a patient the RIS-PACS has never seen
    When GipoNext sends the order
    Then the RIS-PACS rejects the request as unprocessable
    And the RIS-PACS has not stored the order

  @PR-04 @SHOULD
  Scenario: Sending the same order again makes no second order
    Given the RIS-PACS holds an order for the patient
    When GipoNext sends the order again unchanged
    Then the RIS-PACS still holds a single order under that id

  Rule: An order cannot be changed once created

    @PR-03 @SHALL @negative
    Scenario Outline: Changing a created order is refused
      Given the RIS-PACS holds an order for the patient
      When GipoNext tries to <change> the order
      Then the RIS-PACS refuses the change
      And the order is unchanged

      Examples:
        | change  |
        | replace |
        | patch   |
        | delete  |

    @PR-03 @SHALL @negative
    Scenario: Sending an order again with different content is a conflict
      Given the RIS-PACS holds an order for the patient
      When GipoNext sends the order again with different content
      Then the RIS-PACS reports a conflict with the stored order
      And the order is unchanged
