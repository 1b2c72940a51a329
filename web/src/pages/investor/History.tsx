// PLACEHOLDER page: investor/History
import { Card } from "../../ui";

export default function History() {
  return (
    <Card>
      <h1>History</h1>
    </Card>
  );
}
