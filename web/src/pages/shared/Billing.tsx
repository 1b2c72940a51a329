// PLACEHOLDER page: shared/Billing
import { Card } from "../../ui";

export default function Billing() {
  return (
    <Card>
      <h1>Billing</h1>
    </Card>
  );
}
