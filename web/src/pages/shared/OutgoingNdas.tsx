// PLACEHOLDER page: shared/OutgoingNdas
import { Card } from "../../ui";

export default function OutgoingNdas() {
  return (
    <Card>
      <h1>OutgoingNdas</h1>
    </Card>
  );
}
